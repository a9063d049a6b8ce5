/**
 * PATCH on an item (and its status subresource), by the request's content type:
 *
 *   application/json-patch+json             RFC 6902 (json-patch.ts)       kubectl patch --type=json
 *   application/merge-patch+json            RFC 7386 (merge-patch.ts)      kubectl patch --type=merge
 *   application/strategic-merge-patch+json  strategic-merge.ts             kubectl patch, apply, edit, label…
 *   application/apply-patch+yaml            server-side-apply.ts           kubectl apply --server-side
 *
 * The patch applies to the stored object; the result goes through the same write path as an
 * update (create-update.ts). A concurrent write between the read and the commit is retried, as
 * the API server does, unless the patch itself names a resourceVersion (then it is the client's
 * precondition and a Conflict is answered).
 */
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import type { AnyObject, ObjectRef } from '../../core/objects/changes.js';
import type { SchemaCursor } from '../../core/objects/schema-cursor.js';
import { JsonResponse, type RequestContext } from '../http.js';
import { objectTime } from '../objects/object-store.js';
import { commitWrite, identify, managerOf, notFound, readBody, type Obj, type WriteDeps } from './create-update.js';
import { writeOptions } from './field-validation.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import type { Scope } from './routes.js';
import { serverSideApply } from './server-side-apply.js';
import { applyStrategicMergePatch } from './strategic-merge.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** Attempts at a patch when other writers keep changing the object in between. */
const PATCH_ATTEMPTS = 5;

/** The patch type of a Content-Type header; 415 words are Kubernetes'. */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const found = PATCH_TYPES[type];
  if (!found) {
    throw new GroveError(ErrorCode.InvalidArgument, `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(', ')}`, { details: { reason: 'UnsupportedMediaType' } });
  }
  return found;
}

/** `doc` with a json, merge or strategic patch applied (not apply: that needs a manager). */
export function patchDocument(type: Exclude<PatchType, 'apply'>, doc: unknown, patch: unknown, schema: SchemaCursor): unknown {
  if (type === 'json') return applyJsonPatch(doc, patch);
  if (type === 'merge') {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new GroveError(ErrorCode.InvalidArgument, 'a merge patch must be a JSON object');
    return applyMergePatch(doc, patch);
  }
  return applyStrategicMergePatch(doc, patch, schema);
}

function isConflict(err: unknown): boolean {
  return isGroveError(err, ErrorCode.Conflict) && (err.details as { reason?: unknown }).reason === 'Conflict' && !(err.details as { causes?: unknown }).causes;
}

/** PATCH /…/{plural}/{name}[/status]. Apply patches create the object when it is absent (201). */
export async function patchObject(deps: WriteDeps, ctx: RequestContext, scope: Scope, ref: ObjectRef, subresource?: 'status'): Promise<AnyObject | JsonResponse> {
  const type = patchTypeOf(ctx.req.headers['content-type']);
  const options = writeOptions(ctx.query);
  if (type === 'apply' && options.fieldManager === undefined) throw new GroveError(ErrorCode.InvalidArgument, 'PATCH with apply-patch+yaml requires a fieldManager query parameter');
  if (subresource === 'status' && !scope.info.hasStatus) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  const body = await readBody(ctx, { yaml: type === 'apply', patch: true });
  const manager = managerOf(ctx, options);
  const schema = deps.schemas.root(scope.info.kind);
  for (let attempt = 1; ; attempt++) {
    const before = (await deps.objects.get(ref)) as unknown as Obj | undefined;
    if (before === undefined && type !== 'apply') throw notFound(ref);
    let object: Obj;
    if (type === 'apply') {
      const config = identify(scope, body.value, ref.name);
      object = serverSideApply({ ...(before ? { live: before } : {}), config, manager, force: options.force, schema, apiVersion: scope.info.apiVersion, time: objectTime(deps.objects.clock.now()) });
    } else {
      object = identify(scope, patchDocument(type, before, body.value, schema), ref.name);
    }
    // The stored version the patch was made against, unless the patch itself asked for one.
    const pinned = before !== undefined && object.metadata.resourceVersion !== undefined && object.metadata.resourceVersion !== before.metadata.resourceVersion;
    if (before !== undefined && !pinned) object.metadata.resourceVersion = before.metadata.resourceVersion;
    try {
      const written = await commitWrite(deps, {
        scope,
        object,
        ...(before ? { before } : {}),
        // A JSON patch's keys are operations', not the object's.
        duplicates: type === 'json' ? [] : body.duplicates,
        options,
        manager,
        res: ctx.res,
        managedFieldsSet: type === 'apply',
        ...(subresource ? { subresource } : {}),
      });
      return before === undefined ? new JsonResponse(201, written) : written;
    } catch (err) {
      if (pinned || attempt >= PATCH_ATTEMPTS || !isConflict(err)) throw err;
    }
  }
}
