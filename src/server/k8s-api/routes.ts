/**
 * The Kubernetes-shaped read and delete paths (docs/api.md "Kubernetes paths"), answered from the
 * ObjectStore with the admin token as bearer:
 *
 *   GET    /api/v1/namespaces/{ns}/{plural}[/{name}]          namespaced core kinds
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]
 *   GET    /api/v1/{plural}[/{name}], /apis/{group}/{version}/{plural}[/{name}]
 *                                        all namespaces (namespaced kinds) or cluster-scoped kinds
 *   DELETE the item paths                background cascade: the garbage collector takes dependents
 *
 * Lists are `<Kind>List` objects with the store revision as resourceVersion; `?labelSelector=`
 * filters; failures are Status objects. What GET answers passes through `served` (the server adds
 * what it keeps in memory only, such as a Node's last heartbeat), then becomes a meta.k8s.io Table
 * when the client asks for one (respond.ts). Discovery and OpenAPI: discovery-routes.ts.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject, ObjectRef } from '../../core/objects/changes.js';
import { ALL_KINDS, type KindInfo } from '../../core/objects/kinds.js';
import type { RequestContext, Router } from '../http.js';
import { parseSelector } from '../objects/label-selector.js';
import type { ObjectStore } from '../objects/object-store.js';
import { goPlatform } from './discovery.js';
import { addDiscoveryRoutes, type DiscoveryOptions } from './discovery-routes.js';
import { requireJson } from './negotiate.js';
import { answerAsRequested } from './respond.js';
import { notFoundMessage, statusErrorFormat } from './status.js';

function resource(group: string, version: string, plural: string): KindInfo {
  const info = ALL_KINDS.find((k) => k.group === group && k.version === version && k.plural === plural);
  if (!info) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return info;
}

/** Query parameters a list understands; watch is issue 14 and must not look like it worked. */
function listQuery(ctx: RequestContext) {
  const watch = ctx.query.get('watch');
  if (watch === 'true' || watch === '1') throw new GroveError(ErrorCode.InvalidArgument, 'watch is not supported by this server yet');
  const fields = ctx.query.get('fieldSelector');
  if (fields !== null && fields !== '') throw new GroveError(ErrorCode.InvalidArgument, 'fieldSelector is not supported by this server yet');
  return { selector: parseSelector(ctx.query.get('labelSelector')) };
}

interface Scope {
  info: KindInfo;
  /** Absent: all namespaces (or a cluster-scoped kind). */
  namespace?: string;
}

function scoped(info: KindInfo, namespace: string | undefined): Scope {
  if (namespace !== undefined && !info.namespaced) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return { info, ...(namespace !== undefined ? { namespace } : {}) };
}

function itemRef(scope: Scope, name: string): ObjectRef {
  if (scope.info.namespaced && scope.namespace === undefined) {
    // /api/v1/pods/x: Kubernetes has no such path either.
    throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  }
  return { kind: scope.info.kind, ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}), name };
}

/** An object as GET answers it: the stored one, with what the server keeps in memory only. */
export type ServedObject = (object: AnyObject) => AnyObject;

const AS_STORED: ServedObject = (object) => object;

async function list(objects: ObjectStore, scope: Scope, ctx: RequestContext, served: ServedObject): Promise<unknown> {
  const { selector } = listQuery(ctx);
  const found = await objects.list(scope.info.kind, { ...(scope.namespace !== undefined ? { namespace: scope.namespace } : {}), selector });
  return { apiVersion: scope.info.apiVersion, kind: `${scope.info.kind}List`, metadata: { resourceVersion: String(found.revision) }, items: found.items.map((o) => served(o as AnyObject)) };
}

async function getItem(objects: ObjectStore, ref: ObjectRef): Promise<AnyObject> {
  const object = await objects.get(ref);
  if (!object) throw new GroveError(ErrorCode.NotFound, notFoundMessage(ref.kind, ref.name), { details: { kind: ref.kind, name: ref.name } });
  return object as AnyObject;
}

/**
 * Deletes one object; answers the object as it was (a Namespace: as it now is, Terminating), as
 * the API server does for a background deletion.
 */
async function deleteItem(objects: ObjectStore, ref: ObjectRef): Promise<unknown> {
  const existing = await getItem(objects, ref);
  const { results } = await objects.commit([{ op: 'delete', ref }]);
  const result = results[0]!;
  if (result.outcome === 'absent') throw new GroveError(ErrorCode.NotFound, notFoundMessage(ref.kind, ref.name), { details: { kind: ref.kind, name: ref.name } });
  return result.object ?? existing;
}

export interface KubernetesApiOptions {
  /** The server's clock, for the ages in Tables. */
  now?: () => Date;
  discovery?: DiscoveryOptions;
}

/** Adds the Kubernetes paths to `router` (admin token; Status errors). */
export function addKubernetesRoutes(router: Router, objects: ObjectStore, served: ServedObject = AS_STORED, options: KubernetesApiOptions = {}): void {
  const now = options.now ?? (() => new Date());
  const add = (method: 'GET' | 'DELETE', path: string, handler: (ctx: RequestContext, scope: (ns?: string) => Scope) => Promise<unknown>): void => {
    router.add(
      method,
      path,
      (ctx) => {
        const p = ctx.params;
        const info = p.group === undefined ? resource('', 'v1', p.plural!) : resource(p.group, p.version!, p.plural!);
        return handler(ctx, (ns) => scoped(info, ns));
      },
      'admin',
      statusErrorFormat,
    );
  };
  router.formatErrorsUnder('/api/', statusErrorFormat).formatErrorsUnder('/apis/', statusErrorFormat);
  // Everything under /api and /apis answers JSON: a client that takes only protobuf gets 406.
  router.checkUnder('/api', (req) => requireJson(req.headers.accept));
  addDiscoveryRoutes(router, options.discovery ?? { groveVersion: 'unknown', platform: goPlatform(process.platform, process.arch) });
  for (const root of ['/api/v1', '/apis/:group/:version']) {
    const answer = (ctx: RequestContext, scope: Scope, body: unknown) => answerAsRequested(ctx, scope.info.kind, body as Record<string, unknown>, now());
    add('GET', `${root}/namespaces/:namespace/:plural`, async (ctx, scope) => {
      const s = scope(ctx.params.namespace);
      return answer(ctx, s, await list(objects, s, ctx, served));
    });
    add('GET', `${root}/namespaces/:namespace/:plural/:name`, async (ctx, scope) => {
      const s = scope(ctx.params.namespace);
      return answer(ctx, s, served(await getItem(objects, itemRef(s, ctx.params.name!))));
    });
    add('DELETE', `${root}/namespaces/:namespace/:plural/:name`, (ctx, scope) => deleteItem(objects, itemRef(scope(ctx.params.namespace), ctx.params.name!)));
    add('GET', `${root}/:plural`, async (ctx, scope) => answer(ctx, scope(), await list(objects, scope(), ctx, served)));
    add('GET', `${root}/:plural/:name`, async (ctx, scope) => answer(ctx, scope(), served(await getItem(objects, itemRef(scope(), ctx.params.name!)))));
    add('DELETE', `${root}/:plural/:name`, (ctx, scope) => deleteItem(objects, itemRef(scope(), ctx.params.name!)));
  }
}
