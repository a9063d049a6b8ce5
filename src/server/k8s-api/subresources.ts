/**
 * The `scale` subresource (autoscaling/v1 Scale) of Deployments and ReplicaSets: what
 * `kubectl scale` reads and writes (GET, PUT, PATCH). The Scale is a view of the object:
 * spec.replicas is the object's, status.replicas and status.selector come from its status
 * and selector; writing it changes only the object's spec.replicas, through the common write
 * path (field managers, dryRun, resourceVersion precondition).
 *
 * The `status` subresource is served by create-update.ts and patch.ts (writes only status).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { ObjectRef } from '../../core/objects/changes.js';
import type { RequestContext } from '../http.js';
import { commitWrite, managerOf, notFound, readBody, type Obj, type WriteDeps } from './create-update.js';
import { writeOptions } from './field-validation.js';
import { patchDocument, patchTypeOf } from './patch.js';
import type { Scope } from './routes.js';
import { SCALABLE_KINDS } from './discovery-resources.js';
import { selectorText, type SelectorObject } from '../../core/label-selector.js';

// Where they were first written; discovery-resources.ts holds them so that discovery loads no write code.
export { SCALABLE_KINDS, writeSubresources } from './discovery-resources.js';

/** Kubernetes' bound on replicas (int32). */
const MAX_REPLICAS = 2 ** 31 - 1;

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: Record<string, unknown>;
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A label selector as a query string: `app=web,tier in (a,b)`. */
function scaleSelector(selector: unknown): string | undefined {
  return isRecord(selector) ? selectorText(selector as SelectorObject) : undefined;
}

/** The Scale view of a Deployment or ReplicaSet. */
export function scaleOf(object: Obj): Scale {
  const spec = isRecord(object.spec) ? object.spec : {};
  const status = isRecord(object.status) ? object.status : {};
  const m = object.metadata;
  const selector = scaleSelector(spec.selector);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: m.name, ...(m.namespace !== undefined ? { namespace: m.namespace } : {}), uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, ...(selector !== undefined ? { selector } : {}) },
  };
}

/** The replicas a written Scale asks for, checked. */
function replicasOf(scale: unknown): number {
  const replicas = isRecord(scale) && isRecord(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
    throw new GroveError(ErrorCode.InvalidArgument, 'Scale.autoscaling "" is invalid: spec.replicas: Invalid value: must be a whole number ≥ 0', {
      details: { reason: 'Invalid', causes: [{ field: 'spec.replicas', message: 'must be a whole number greater than or equal to 0' }] },
    });
  }
  return replicas;
}

function checkScalable(scope: Scope): void {
  if (!SCALABLE_KINDS.includes(scope.info.kind)) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
}

async function current(deps: WriteDeps, ref: ObjectRef): Promise<Obj> {
  const object = (await deps.objects.get(ref)) as unknown as Obj | undefined;
  if (object === undefined) throw notFound(ref);
  return object;
}

/** GET …/scale */
export async function getScale(deps: WriteDeps, scope: Scope, ref: ObjectRef): Promise<Scale> {
  checkScalable(scope);
  return scaleOf(await current(deps, ref));
}

/** PUT or PATCH …/scale: the object's spec.replicas set from the Scale written. */
export async function writeScale(deps: WriteDeps, ctx: RequestContext, scope: Scope, ref: ObjectRef, method: 'PUT' | 'PATCH'): Promise<Scale> {
  checkScalable(scope);
  const options = writeOptions(ctx.query);
  const type = method === 'PATCH' ? patchTypeOf(ctx.req.headers['content-type']) : undefined;
  if (type === 'apply') throw new GroveError(ErrorCode.InvalidArgument, 'server-side apply of the scale subresource is not supported: apply the object itself');
  const body = await readBody(ctx, { patch: type !== undefined });
  const before = await current(deps, ref);
  const written = type === undefined ? body.value : patchDocument(type, scaleOf(before), body.value, deps.schemas.none());
  const replicas = replicasOf(written);
  const rv = isRecord(written) && isRecord(written.metadata) ? written.metadata.resourceVersion : undefined;
  const object: Obj = { ...before, spec: { ...(before.spec as object), replicas }, metadata: { ...before.metadata, resourceVersion: typeof rv === 'string' && rv !== '' ? rv : before.metadata.resourceVersion } };
  const stored = await commitWrite(deps, { scope, object, before, options, manager: managerOf(ctx, options), res: ctx.res });
  return scaleOf(stored as unknown as Obj);
}

