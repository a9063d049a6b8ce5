/**
 * The discovery and OpenAPI paths of the Kubernetes API (docs/api.md "Discovery and OpenAPI"):
 *
 *   GET /version                          version.Info
 *   GET /api, /apis                       APIVersions / APIGroupList, or aggregated discovery
 *   GET /apis/{group}                     APIGroup
 *   GET /api/v1, /apis/{group}/{version}  APIResourceList
 *   GET /openapi/v3                       index of the v3 documents (URLs carry their hash)
 *   GET /openapi/v3/api/v1, /openapi/v3/apis/{group}/{version}
 *   GET /openapi/v2                       JSON, or protobuf when asked (kubectl's validation)
 *
 * Every document is built the first time it is asked for and kept (the resources do not change
 * while the server runs), with an ETag: a client that sends If-None-Match gets 304 and no body.
 * Nothing is built at start: a server nobody runs kubectl against spends no memory on them, nor
 * on the OpenAPI code and the kinds' schemas, which load with the first OpenAPI request.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { RequestContext, Router } from '../http.js';
import { aggregatedDiscovery, apiGroupList, apiGroupOf, apiResourceList, apiVersions, groupVersionPath, kindResources, versionInfo, type DiscoveryResource } from './discovery.js';
import { contentTypeOf, negotiate, type Representation } from './negotiate.js';
import { statusErrorFormat } from './status.js';

export interface DiscoveryOptions {
  /** Grove's version (package.json), shown in /version and the OpenAPI documents. */
  groveVersion: string;
  /** "linux/arm64": the server's platform, as Go names it. */
  platform: string;
  /** Resources other parts of the API serve (events, metrics, subresources such as pods/log). */
  extraResources?: readonly DiscoveryResource[];
}

interface Document {
  body: Buffer;
  etag: string;
  contentType: string;
}

function document(body: Buffer | string, contentType: string): Document {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  // The type is part of the tag: a client's HTTP cache keeps the headers of what it revalidates.
  return { body: bytes, etag: `"${createHash('sha256').update(contentType).update('\n').update(bytes).digest('hex')}"`, contentType };
}

/** Built-once documents by key; a key whose builder finds nothing is a 404 (and not kept). */
class DocumentCache {
  private readonly docs = new Map<string, Document>();

  get(key: string, build: () => Document | undefined): Document {
    let doc = this.docs.get(key);
    if (!doc) {
      doc = build();
      if (!doc) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
      this.docs.set(key, doc);
    }
    return doc;
  }
}

function send(ctx: RequestContext, doc: Document): void {
  const headers = { etag: doc.etag, 'cache-control': 'no-cache, private' };
  if (ctx.req.headers['if-none-match'] === doc.etag) {
    ctx.res.writeHead(304, headers);
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, { ...headers, 'content-type': doc.contentType, 'content-length': doc.body.length });
  ctx.res.end(doc.body);
}

const json = (value: unknown, representation: Representation = { kind: 'json' }): Document => document(JSON.stringify(value), contentTypeOf(representation));

/** Adds the discovery and OpenAPI paths to `router` (admin token; Status errors). */
export function addDiscoveryRoutes(router: Router, options: DiscoveryOptions): void {
  const resources = [...kindResources(), ...(options.extraResources ?? [])];
  const info = { groveVersion: options.groveVersion };
  const cache = new DocumentCache();
  const add = (path: string, handler: (ctx: RequestContext) => Document | Promise<Document>): void => {
    router.add(
      'GET',
      path,
      async (ctx) => {
        send(ctx, await handler(ctx));
        return undefined;
      },
      // /version is public in Kubernetes (kubectl version asks before it has credentials).
      path === '/version' ? 'public' : 'admin',
      statusErrorFormat,
    );
  };
  let openapiCode: Promise<typeof import('./openapi.js')> | undefined;
  const openapi = () => (openapiCode ??= import('./openapi.js'));
  const v3 = (o: typeof import('./openapi.js'), group: string, version: string) =>
    cache.get(`openapi/v3/${groupVersionPath(group, version)}`, () => {
      const doc = o.openApiV3(resources, group, version, info);
      return doc ? json(doc) : undefined;
    });

  add('/version', () => cache.get('version', () => json(versionInfo(options.groveVersion, options.platform))));
  for (const core of [true, false]) {
    add(core ? '/api' : '/apis', (ctx) => {
      const wanted = negotiate(ctx.req.headers.accept, ['discovery', 'json']);
      const key = `${core ? 'api' : 'apis'}:${wanted.kind === 'discovery' ? wanted.version : 'json'}`;
      return cache.get(key, () => {
        if (wanted.kind === 'discovery') return json(aggregatedDiscovery(resources, core, wanted.version), wanted);
        return json(core ? apiVersions() : apiGroupList(resources));
      });
    });
  }
  add('/apis/:group', (ctx) => {
    const group = ctx.params.group!;
    return cache.get(`apis/${group}`, () => {
      const found = apiGroupOf(resources, group);
      return found ? json(found) : undefined;
    });
  });
  const resourceList = (group: string, version: string) =>
    cache.get(`resources/${groupVersionPath(group, version)}`, () => {
      const found = apiResourceList(resources, group, version);
      return found ? json(found) : undefined;
    });
  add('/api/v1', () => resourceList('', 'v1'));
  add('/apis/:group/:version', (ctx) => resourceList(ctx.params.group!, ctx.params.version!));

  add('/openapi/v3', async () => {
    const o = await openapi();
    return cache.get('openapi/v3', () => json(o.openApiV3Index(o.openApiGroupVersions(resources).map((gv) => ({ path: gv.path, hash: v3(o, gv.group, gv.version).etag.slice(1, -1) })))));
  });
  add('/openapi/v3/api/v1', async () => v3(await openapi(), '', 'v1'));
  add('/openapi/v3/apis/:group/:version', async (ctx) => v3(await openapi(), ctx.params.group!, ctx.params.version!));
  add('/openapi/v2', async (ctx) => {
    const wanted = negotiate(ctx.req.headers.accept, ['openapi-v2-protobuf', 'json']);
    const o = await openapi();
    const source = () => o.openApiV2(resources, info);
    if (wanted.kind === 'openapi-v2-protobuf') {
      const { openApiV2Protobuf } = await import('./openapi-protobuf.js');
      return cache.get('openapi/v2:protobuf', () => document(openApiV2Protobuf(source()), contentTypeOf(wanted)));
    }
    return cache.get('openapi/v2:json', () => json(source()));
  });
}
