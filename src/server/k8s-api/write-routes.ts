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
import { SchemaIndex } from '../../core/objects/schema-cursor.js';
import type { RequestContext, Router } from '../http.js';
import type { ObjectStore } from '../objects/object-store.js';
import { createObject, updateObject, type WriteDeps } from './create-update.js';
import { deleteCollection, deleteObject } from './delete-options.js';
import { patchObject } from './patch.js';
import { addResourceRoute, getItem, itemRef, scoped, type Scope } from './routes.js';
import { getScale, writeScale } from './subresources.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Adds the write paths to `router`; `schemas` is shared with whoever else reads list semantics. */
export function addWriteRoutes(router: Router, objects: ObjectStore, schemas = new SchemaIndex()): void {
  const deps: WriteDeps = { objects, schemas };
  const add = (method: Method, path: string, handler: (ctx: RequestContext, scope: Scope) => Promise<unknown>): void => {
    addResourceRoute(router, method, path, (ctx, info) => handler(ctx, scoped(info, ctx.params.namespace)));
  };
  const ref = (ctx: RequestContext, scope: Scope) => itemRef(scope, ctx.params.name!);
  for (const root of ['/api/v1', '/apis/:group/:version']) {
    for (const base of [`${root}/namespaces/:namespace/:plural`, `${root}/:plural`]) {
      const item = `${base}/:name`;
      add('POST', base, (ctx, scope) => createObject(deps, ctx, scope));
      add('DELETE', base, (ctx, scope) => deleteCollection(objects, ctx, scope));
      add('PUT', item, (ctx, scope) => updateObject(deps, ctx, scope, ref(ctx, scope)));
      add('PATCH', item, (ctx, scope) => patchObject(deps, ctx, scope, ref(ctx, scope)));
      add('DELETE', item, (ctx, scope) => deleteObject(objects, ctx, ref(ctx, scope)));
      add('GET', `${item}/status`, (ctx, scope) => getItem(objects, ref(ctx, scope)));
      add('PUT', `${item}/status`, (ctx, scope) => updateObject(deps, ctx, scope, ref(ctx, scope), 'status'));
      add('PATCH', `${item}/status`, (ctx, scope) => patchObject(deps, ctx, scope, ref(ctx, scope), 'status'));
      add('GET', `${item}/scale`, (ctx, scope) => getScale(deps, scope, ref(ctx, scope)));
      add('PUT', `${item}/scale`, (ctx, scope) => writeScale(deps, ctx, scope, ref(ctx, scope), 'PUT'));
      add('PATCH', `${item}/scale`, (ctx, scope) => writeScale(deps, ctx, scope, ref(ctx, scope), 'PATCH'));
    }
  }
}
