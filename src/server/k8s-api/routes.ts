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
 * Lists and watches are list.ts's (selectors, paging, resourceVersion rules, `?watch=1`);
 * failures are Status objects. What GET answers passes through `served` (the server adds
 * what it keeps in memory only, such as a Node's last heartbeat).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject, ObjectRef } from '../../core/objects/changes.js';
import { ALL_KINDS, type KindInfo } from '../../core/objects/kinds.js';
import type { RequestContext, Router } from '../http.js';
import type { ObjectStore } from '../objects/object-store.js';
import { serveCollection, type CollectionDeps } from './list.js';
import { ListSnapshots } from './list-snapshots.js';
import type { ObjectFeed } from './object-watch-source.js';
import type { ApiObject } from './watch-source.js';
import { JsonCache } from './watch.js';
import { notFoundMessage, statusErrorFormat } from './status.js';

function resource(group: string, version: string, plural: string): KindInfo {
  const info = ALL_KINDS.find((k) => k.group === group && k.version === version && k.plural === plural);
  if (!info) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return info;
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

/** Lists and watches read the ObjectFeed: the changes and the history behind resourceVersions. */
export interface ListDeps extends Omit<CollectionDeps, 'json' | 'snapshots'> {
  feed: ObjectFeed;
}

function list(scope: Scope, ctx: RequestContext, served: ServedObject, deps: CollectionDeps & { feed: ObjectFeed }): Promise<unknown> {
  const { info } = scope;
  const resource = { source: deps.feed.source(info.kind), apiVersion: info.apiVersion, kind: info.kind, listKind: `${info.kind}List`, present: (o: ApiObject) => served(o as AnyObject) };
  return serveCollection(ctx, resource, scope.namespace, deps);
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

/** Adds the Kubernetes paths to `router` (admin token; Status errors). */
export function addKubernetesRoutes(router: Router, objects: ObjectStore, served: ServedObject, listDeps: ListDeps): void {
  const deps = { ...listDeps, json: new JsonCache(), snapshots: new ListSnapshots(listDeps.clock) };
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
  for (const root of ['/api/v1', '/apis/:group/:version']) {
    add('GET', `${root}/namespaces/:namespace/:plural`, (ctx, scope) => list(scope(ctx.params.namespace), ctx, served, deps));
    add('GET', `${root}/namespaces/:namespace/:plural/:name`, async (ctx, scope) => served(await getItem(objects, itemRef(scope(ctx.params.namespace), ctx.params.name!))));
    add('DELETE', `${root}/namespaces/:namespace/:plural/:name`, (ctx, scope) => deleteItem(objects, itemRef(scope(ctx.params.namespace), ctx.params.name!)));
    add('GET', `${root}/:plural`, (ctx, scope) => list(scope(), ctx, served, deps));
    add('GET', `${root}/:plural/:name`, async (ctx, scope) => served(await getItem(objects, itemRef(scope(), ctx.params.name!))));
    add('DELETE', `${root}/:plural/:name`, (ctx, scope) => deleteItem(objects, itemRef(scope(), ctx.params.name!)));
  }
}
