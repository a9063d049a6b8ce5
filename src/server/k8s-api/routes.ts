/**
 * The Kubernetes-shaped read and delete paths (docs/api.md "Kubernetes paths"), answered from the
 * ObjectStore with the admin token as bearer:
 *
 *   GET    /api/v1/namespaces/{ns}/{plural}[/{name}]          namespaced core kinds
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]
 *   GET    /api/v1/{plural}[/{name}], /apis/{group}/{version}/{plural}[/{name}]
 *                                        all namespaces (namespaced kinds) or cluster-scoped kinds
 *   POST, PUT, PATCH, DELETE and the status and scale subresources: write-routes.ts
 *
 * Lists and watches are list.ts's (selectors, paging, resourceVersion rules, `?watch=1`);
 * failures are Status objects. What GET answers passes through `served` (the server adds what it
 * keeps in memory only, such as a Node's last heartbeat), then becomes a meta.k8s.io Table when
 * the client asks for one (respond.ts; a watch's events become one-row Tables). Discovery and
 * OpenAPI: discovery-routes.ts; writes: write-routes.ts.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject, ObjectRef } from '../../core/objects/changes.js';
import { ALL_KINDS, type KindInfo } from '../../core/objects/kinds.js';
import type { RequestContext, Router } from '../http.js';
import type { ObjectStore } from '../objects/object-store.js';
import { goPlatform } from './discovery.js';
import { addDiscoveryRoutes, type DiscoveryOptions } from './discovery-routes.js';
import { requireJson } from './negotiate.js';
import { answerAsRequested, watchPresenter } from './respond.js';
import { serveCollection, type CollectionDeps } from './list.js';
import { ListSnapshots } from './list-snapshots.js';
import type { ObjectFeed } from './object-watch-source.js';
import type { ApiObject } from './watch-source.js';
import { JsonCache } from './watch.js';
import { notFoundMessage, statusErrorFormat } from './status.js';
import { addWriteRoutes } from './write-routes.js';

export function resource(group: string, version: string, plural: string): KindInfo {
  const info = ALL_KINDS.find((k) => k.group === group && k.version === version && k.plural === plural);
  if (!info) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return info;
}

export interface Scope {
  info: KindInfo;
  /** Absent: all namespaces (or a cluster-scoped kind). */
  namespace?: string;
}

export function scoped(info: KindInfo, namespace: string | undefined): Scope {
  if (namespace !== undefined && !info.namespaced) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return { info, ...(namespace !== undefined ? { namespace } : {}) };
}

export function itemRef(scope: Scope, name: string): ObjectRef {
  if (scope.info.namespaced && scope.namespace === undefined) {
    // /api/v1/pods/x: Kubernetes has no such path either.
    throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  }
  return { kind: scope.info.kind, ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}), name };
}

/** An object as GET answers it: the stored one, with what the server keeps in memory only. */
export type ServedObject = (object: AnyObject) => AnyObject;

/** Lists and watches read the ObjectFeed: the changes and the history behind resourceVersions. */
export interface ListDeps extends Omit<CollectionDeps, 'json' | 'snapshots'> {
  feed: ObjectFeed;
}

function list(scope: Scope, ctx: RequestContext, served: ServedObject, deps: CollectionDeps & { feed: ObjectFeed }, now: () => Date): Promise<unknown> {
  const { info } = scope;
  // A watch's events carry Tables of one row when the client asks for Tables (kubectl get -w).
  const present = watchPresenter(ctx, info.kind, (o) => served(o as AnyObject) as unknown as ApiObject, now);
  const resource = { source: deps.feed.source(info.kind), apiVersion: info.apiVersion, kind: info.kind, listKind: `${info.kind}List`, present };
  return serveCollection(ctx, resource, scope.namespace, deps);
}

export async function getItem(objects: ObjectStore, ref: ObjectRef): Promise<AnyObject> {
  const object = await objects.get(ref);
  if (!object) throw new GroveError(ErrorCode.NotFound, notFoundMessage(ref.kind, ref.name), { details: { kind: ref.kind, name: ref.name } });
  return object as AnyObject;
}

/**
 * Adds one route on a resource path (`:plural`, and `:group`/`:version` under /apis) whose
 * handler gets the resource's kind: admin token, Status errors.
 */
export function addResourceRoute(router: Router, method: string, path: string, handler: (ctx: RequestContext, info: KindInfo) => Promise<unknown>): void {
  router.add(
    method,
    path,
    (ctx) => {
      const p = ctx.params;
      return handler(ctx, p.group === undefined ? resource('', 'v1', p.plural!) : resource(p.group, p.version!, p.plural!));
    },
    'admin',
    statusErrorFormat,
  );
}

export interface KubernetesApiOptions {
  /** The server's clock, for the ages in Tables. */
  now?: () => Date;
  discovery?: DiscoveryOptions;
}

/** Adds the Kubernetes paths to `router` (admin token; Status errors). */
export function addKubernetesRoutes(router: Router, objects: ObjectStore, served: ServedObject, listDeps: ListDeps, options: KubernetesApiOptions = {}): void {
  const deps = { ...listDeps, json: new JsonCache(), snapshots: new ListSnapshots(listDeps.clock) };
  const now = options.now ?? (() => new Date());
  const add = (method: 'GET', path: string, handler: (ctx: RequestContext, scope: (ns?: string) => Scope) => Promise<unknown>): void => {
    addResourceRoute(router, method, path, (ctx, info) => handler(ctx, (ns) => scoped(info, ns)));
  };
  router.formatErrorsUnder('/api/', statusErrorFormat).formatErrorsUnder('/apis/', statusErrorFormat);
  // Everything under /api and /apis answers JSON: a client that takes only protobuf gets 406.
  router.checkUnder('/api', (req) => requireJson(req.headers.accept));
  addDiscoveryRoutes(router, options.discovery ?? { groveVersion: 'unknown', platform: goPlatform(process.platform, process.arch) });
  for (const root of ['/api/v1', '/apis/:group/:version']) {
    const answer = (ctx: RequestContext, scope: Scope, body: unknown) => answerAsRequested(ctx, scope.info.kind, body as Record<string, unknown>, now());
    // A watch has streamed its own answer (undefined); a list becomes a Table when asked.
    const collection = async (ctx: RequestContext, s: Scope) => {
      const body = await list(s, ctx, served, deps, now);
      return body === undefined ? undefined : answer(ctx, s, body);
    };
    add('GET', `${root}/namespaces/:namespace/:plural`, (ctx, scope) => collection(ctx, scope(ctx.params.namespace)));
    add('GET', `${root}/namespaces/:namespace/:plural/:name`, async (ctx, scope) => {
      const s = scope(ctx.params.namespace);
      return answer(ctx, s, served(await getItem(objects, itemRef(s, ctx.params.name!))));
    });
    add('GET', `${root}/:plural`, (ctx, scope) => collection(ctx, scope()));
    add('GET', `${root}/:plural/:name`, async (ctx, scope) => answer(ctx, scope(), served(await getItem(objects, itemRef(scope(), ctx.params.name!)))));
  }
  addWriteRoutes(router, objects);
}
