/**
 * Create (POST to a collection) and update (PUT to an item) on the Kubernetes paths, and the
 * write path every other write shares (patch, server-side apply, status, scale): the body's
 * identity checked against the URL, field validation, field managers recorded, ONE commit
 * through the ObjectStore (`dryRun=All`: decided, not written).
 *
 * - POST: 201 with the stored object; 409 AlreadyExists when the name is taken.
 * - PUT: 200; a `metadata.resourceVersion` must be the stored one (409 Conflict, Kubernetes'
 *   message); without one the update is unconditional, as Kubernetes allows for these kinds.
 *   The status of kinds with one is kept (written through the status subresource only).
 */
import type { ServerResponse } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject, ObjectRef } from '../../core/objects/changes.js';
import type { KindInfo } from '../../core/objects/kinds.js';
import type { ManagedFieldsEntry } from '../../core/objects/meta.js';
import type { SchemaIndex } from '../../core/objects/schema-cursor.js';
import { JsonResponse, type RequestContext } from '../http.js';
import { admitObject, invalidObject } from '../objects/admit.js';
import { nodeEditedThroughApi } from '../objects/node-object.js';
import type { Node } from '../../core/objects/cluster.js';
import { objectTime, type ObjectStore } from '../objects/object-store.js';
import { decodeBody, validateFields, writeOptions, type DecodedBody, type WriteOptions } from './field-validation.js';
import { decodeProtobufObject, isProtobuf, PROTOBUF_TYPE } from './protobuf-body.js';
import { changedFields, defaultManager, fieldsOf, recordUpdate } from './managed-fields.js';
import type { Scope } from './routes.js';
import { notFoundMessage } from './status.js';

export type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface WriteDeps {
  objects: ObjectStore;
  schemas: SchemaIndex;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function notFound(ref: ObjectRef): GroveError {
  return new GroveError(ErrorCode.NotFound, notFoundMessage(ref.kind, ref.name), { details: { kind: ref.kind, name: ref.name } });
}

function badRequest(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

/**
 * The body as a `scope.info` object named by the URL: apiVersion and kind defaulted from the
 * path or refused when they differ; the namespace taken from the path (refused when it differs);
 * the name checked against the URL's (`name` given: an item path).
 */
export function identify(scope: Scope, value: unknown, name?: string): Obj {
  const info = scope.info;
  if (!isRecord(value)) throw badRequest('the request body must be a JSON object');
  const { apiVersion, kind } = value;
  if (apiVersion !== undefined && apiVersion !== info.apiVersion) {
    throw badRequest(`the API version in the data (${String(apiVersion).slice(0, 64)}) does not match the expected API version (${info.apiVersion})`);
  }
  if (kind !== undefined && kind !== info.kind) throw badRequest(`the kind in the data (${String(kind).slice(0, 64)}) does not match the expected kind (${info.kind})`);
  const metadata = value.metadata === undefined ? {} : value.metadata;
  if (!isRecord(metadata)) throw badRequest('metadata must be an object');
  const meta: Record<string, unknown> = { ...metadata };
  if (info.namespaced) {
    if (meta.namespace === undefined || meta.namespace === '') meta.namespace = scope.namespace;
    else if (meta.namespace !== scope.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  } else {
    delete meta.namespace;
  }
  if (name !== undefined) {
    if (meta.name === undefined || meta.name === '') meta.name = name;
    else if (meta.name !== name) throw badRequest(`the name of the object (${String(meta.name).slice(0, 253)}) does not match the name on the URL (${name})`);
  } else if (typeof meta.name !== 'string' || meta.name === '') {
    throw invalidObject(info.kind, '', [{ field: 'metadata.name', message: 'Required value: name is required' }]);
  }
  return { ...value, apiVersion: info.apiVersion, kind: info.kind, metadata: meta };
}

/** The object's reference under `scope`. */
export function refIn(scope: Scope, object: Obj): ObjectRef {
  return { kind: scope.info.kind, ...(scope.info.namespaced ? { namespace: String(object.metadata.namespace) } : {}), name: String(object.metadata.name) };
}

/** The request's body, decoded; `yaml` for server-side apply bodies. */
export async function readBody(ctx: RequestContext, opts: { yaml?: boolean; patch?: boolean } = {}): Promise<DecodedBody> {
  const contentType = ctx.req.headers['content-type'];
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (!opts.patch && isProtobuf(contentType)) return { value: decodeProtobufObject((await ctx.rawBody()).bytes), duplicates: [] };
  if (!opts.patch && type !== 'application/json' && type !== '*/*') {
    throw new GroveError(ErrorCode.InvalidArgument, `the body of the request was in an unknown format - accepted media types include: application/json, ${PROTOBUF_TYPE}`, { details: { reason: 'UnsupportedMediaType' } });
  }
  const { bytes } = await ctx.rawBody();
  return decodeBody(bytes, opts);
}

export interface Write {
  scope: Scope;
  /** The object to store (as the client sent it or as the patch made it). */
  object: Obj;
  /** What is stored now (absent: a create). */
  before?: Obj;
  duplicates?: readonly string[];
  options: WriteOptions;
  /** Who writes, for managedFields (the fieldManager query, else from the User-Agent). */
  manager: string;
  /** The subresource written (status) or undefined for the object itself. */
  subresource?: 'status';
  /** Server-side apply sets managedFields itself. */
  managedFieldsSet?: boolean;
  res?: ServerResponse;
}

/** The field manager of a request: `fieldManager`, else the User-Agent's program name. */
export function managerOf(ctx: RequestContext, options: WriteOptions): string {
  return options.fieldManager ?? defaultManager(ctx.req.headers['user-agent']);
}

/**
 * Field validation and field managers for `w`, then ONE commit (dry or not). Returns the
 * object as stored (or as it would be). The status subresource writes only the status.
 */
export async function commitWrite(deps: WriteDeps, w: Write): Promise<AnyObject> {
  const info = w.scope.info;
  const checked = validateFields(info.kind, { value: w.object, duplicates: [...(w.duplicates ?? [])] }, w.options.fieldValidation, w.res) as Obj;
  const ref = refIn(w.scope, checked);
  if (w.subresource === 'status') {
    const { results } = await deps.objects.commit([{ op: 'status', ref, status: checked.status }], { dryRun: w.options.dryRun });
    if (results[0]!.outcome === 'absent') throw notFound(ref);
    return results[0]!.object!;
  }
  const labelled = info.kind === 'Node' && w.before !== undefined ? (nodeEditedThroughApi(w.before as unknown as Node, checked as unknown as Node) as unknown as Obj) : checked;
  const toStore = w.managedFieldsSet ? labelled : withUpdateRecorded(deps, info, labelled, w);
  const { results } = await deps.objects.commit([{ op: 'put', object: toStore as unknown as AnyObject, expect: w.before === undefined ? 'absent' : 'present' }], { dryRun: w.options.dryRun });
  return results[0]!.object!;
}

/**
 * The object with its managedFields after this update: what changed (on the defaulted forms,
 * so defaults never move ownership) taken from other managers and given to this one. A client
 * that changes managedFields itself (an empty list resets them) is taken at its word.
 */
function withUpdateRecorded(deps: WriteDeps, info: KindInfo, object: Obj, w: Write): Obj {
  const before = w.before;
  const previous = (before?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  const given = object.metadata.managedFields;
  if (given !== undefined && !isDeepStrictEqual(given, previous)) return object;
  const admitted = admitObject(info.kind, { ...object, metadata: { ...object.metadata, managedFields: undefined } }) as unknown as Obj;
  const schema = deps.schemas.root(info.kind);
  const changed = changedFields(before ?? { metadata: {} }, admitted, schema);
  const now = objectTime(deps.objects.clock.now());
  const managedFields = recordUpdate(previous, w.manager, info.apiVersion, now, changed, fieldsOf(admitted, schema));
  return { ...object, metadata: { ...object.metadata, managedFields } };
}

/** POST /…/{plural}: create. */
export async function createObject(deps: WriteDeps, ctx: RequestContext, scope: Scope): Promise<JsonResponse> {
  const options = writeOptions(ctx.query);
  const body = await readBody(ctx);
  const object = identify(scope, body.value);
  const { uid: _uid, resourceVersion: _rv, managedFields: _mf, ...meta } = object.metadata;
  const created = await commitWrite(deps, { scope, object: { ...object, metadata: meta }, duplicates: body.duplicates, options, manager: managerOf(ctx, options), res: ctx.res });
  return new JsonResponse(201, created);
}

/** PUT /…/{plural}/{name}[/status]: update (replace) the object, or only its status. */
export async function updateObject(deps: WriteDeps, ctx: RequestContext, scope: Scope, ref: ObjectRef, subresource?: 'status'): Promise<AnyObject> {
  const options = writeOptions(ctx.query);
  const body = await readBody(ctx);
  const object = identify(scope, body.value, ref.name);
  const before = (await deps.objects.get(ref)) as unknown as Obj | undefined;
  if (before === undefined) throw notFound(ref);
  if (subresource === 'status' && !scope.info.hasStatus) throw new GroveError(ErrorCode.NotFound, 'the server could not find the requested resource');
  return commitWrite(deps, { scope, object, before, duplicates: body.duplicates, options, manager: managerOf(ctx, options), res: ctx.res, ...(subresource ? { subresource } : {}) });
}
