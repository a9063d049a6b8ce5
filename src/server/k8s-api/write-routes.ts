/**
 * The write paths of the Kubernetes API (docs/api.md "Kubernetes paths", docs/kubectl.md
 * "Writing: apply, patch, edit, scale, delete"), for every kind, namespaced and cluster-scoped:
 *
 *   POST   …/{plural}                       create
 *   PUT    …/{plural}/{name}                update (replace)
 *   PATCH  …/{plural}/{name}                json, merge, strategic merge patch; server-side apply
 *   DELETE …/{plural}/{name}                with DeleteOptions
 *   DELETE …/{plural}                       delete collection (labelSelector)
 *   GET|PUT|PATCH …/{plural}/{name}/status  the status subresource (kinds with a status)
 *   GET|PUT|PATCH …/{plural}/{name}/scale   autoscaling/v1 Scale (Deployments, ReplicaSets)
 *
 * All with the admin token (authorization is the router's), failures as Status objects.
 */
import type { SchemaIndex } from '../../core/objects/schema-cursor.js';
import type { RequestContext, Router } from '../http.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { WriteDeps } from './create-update.js';
import { addResourceRoute, getItem, itemRef, scoped, type Scope } from './routes.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The write handlers and what they share (the schema index, hence the kinds' schemas), loaded
 * with the first write: patch engines, server-side apply and body decoding are most of the API's
 * code, and a server that only lists and watches keeps none of it in memory.
 */
async function loadWrites(objects: ObjectStore, schemas: SchemaIndex | undefined) {
  const [cursor, createUpdate, deletes, patch, subresources] = await Promise.all([
    import('../../core/objects/schema-cursor.js'),
    import('./create-update.js'),
    import('./delete-options.js'),
    import('./patch.js'),
    import('./subresources.js'),
  ]);
  const deps: WriteDeps = { objects, schemas: schemas ?? new cursor.SchemaIndex() };
  return { deps, ...createUpdate, ...deletes, ...patch, ...subresources };
}

type Writes = Awaited<ReturnType<typeof loadWrites>>;

/** Adds the write paths to `router`; `schemas` is shared with whoever else reads list semantics. */
export function addWriteRoutes(router: Router, objects: ObjectStore, schemas?: SchemaIndex): void {
  let writes: Promise<Writes> | undefined;
  const loaded = (): Promise<Writes> =>
    (writes ??= loadWrites(objects, schemas).catch((err: unknown) => {
      writes = undefined;
      throw err;
    }));
  const add = (method: Method, path: string, handler: (w: Writes, ctx: RequestContext, scope: Scope) => Promise<unknown>): void => {
    addResourceRoute(router, method, path, async (ctx, info) => {
      const scope = scoped(info, ctx.params.namespace);
      return handler(await loaded(), ctx, scope);
    });
  };
  const ref = (ctx: RequestContext, scope: Scope) => itemRef(scope, ctx.params.name!);
  for (const root of ['/api/v1', '/apis/:group/:version']) {
    for (const base of [`${root}/namespaces/:namespace/:plural`, `${root}/:plural`]) {
      const item = `${base}/:name`;
      add('POST', base, (w, ctx, scope) => w.createObject(w.deps, ctx, scope));
      add('DELETE', base, (w, ctx, scope) => w.deleteCollection(objects, ctx, scope));
      add('PUT', item, (w, ctx, scope) => w.updateObject(w.deps, ctx, scope, ref(ctx, scope)));
      add('PATCH', item, (w, ctx, scope) => w.patchObject(w.deps, ctx, scope, ref(ctx, scope)));
      add('DELETE', item, (w, ctx, scope) => w.deleteObject(objects, ctx, ref(ctx, scope)));
      addResourceRoute(router, 'GET', `${item}/status`, (ctx, info) => {
        const scope = scoped(info, ctx.params.namespace);
        return getItem(objects, ref(ctx, scope));
      });
      add('PUT', `${item}/status`, (w, ctx, scope) => w.updateObject(w.deps, ctx, scope, ref(ctx, scope), 'status'));
      add('PATCH', `${item}/status`, (w, ctx, scope) => w.patchObject(w.deps, ctx, scope, ref(ctx, scope), 'status'));
      add('GET', `${item}/scale`, (w, ctx, scope) => w.getScale(w.deps, scope, ref(ctx, scope)));
      add('PUT', `${item}/scale`, (w, ctx, scope) => w.writeScale(w.deps, ctx, scope, ref(ctx, scope), 'PUT'));
      add('PATCH', `${item}/scale`, (w, ctx, scope) => w.writeScale(w.deps, ctx, scope, ref(ctx, scope), 'PATCH'));
    }
  }
}
