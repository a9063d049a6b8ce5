/**
 * Kubernetes `Status` objects: how the Kubernetes-shaped routes (and /v1/apply) answer a
 * failure, so kubectl and client libraries show the message and read reason and code as they do
 * against any API server. Built from a GroveError: its code gives reason and HTTP status, its
 * details give the object's kind and name and, for invalid objects, the causes.
 */
import { ErrorCode, isGroveError } from '../../core/errors.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';
import type { ErrorFormatter } from '../http.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'RequestEntityTooLarge'
  | 'MethodNotAllowed'
  | 'Timeout'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'InternalError';

export interface StatusCause {
  field?: string;
  message: string;
  reason?: string;
}

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

const BY_CODE: Partial<Record<string, [StatusReason, number]>> = {
  [ErrorCode.InvalidArgument]: ['BadRequest', 400],
  [ErrorCode.ManifestInvalid]: ['BadRequest', 400],
  [ErrorCode.InvalidImageReference]: ['BadRequest', 400],
  [ErrorCode.Unauthenticated]: ['Unauthorized', 401],
  [ErrorCode.PermissionDenied]: ['Forbidden', 403],
  [ErrorCode.NotFound]: ['NotFound', 404],
  [ErrorCode.NotAcceptable]: ['NotAcceptable', 406],
  [ErrorCode.Conflict]: ['Conflict', 409],
  [ErrorCode.SizeLimit]: ['RequestEntityTooLarge', 413],
  [ErrorCode.Timeout]: ['Timeout', 504],
  [ErrorCode.RateLimited]: ['TooManyRequests', 429],
  [ErrorCode.ServerUnavailable]: ['ServiceUnavailable', 503],
  [ErrorCode.NodeUnavailable]: ['ServiceUnavailable', 503],
  // Kubernetes has no reason for a full disk; the code is the one the rest of the API answers (http.ts).
  [ErrorCode.NoSpace]: ['InternalError', 507],
};

interface ErrorDetails {
  kind?: unknown;
  name?: unknown;
  reason?: unknown;
  causes?: unknown;
}

/** The Status for any thrown value (an internal failure says no more than "internal error"). */
export function statusOf(err: unknown): Status {
  if (!isGroveError(err)) return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'internal server error', reason: 'InternalError', code: 500 };
  const d = err.details as ErrorDetails;
  let [reason, code] = BY_CODE[err.code] ?? (['InternalError', 500] as [StatusReason, number]);
  const causes = Array.isArray(d.causes) ? (d.causes as StatusCause[]).map((c) => ({ reason: 'FieldValueInvalid', ...c })) : undefined;
  if (d.reason === 'Invalid' || (causes && err.code === ErrorCode.InvalidArgument)) [reason, code] = ['Invalid', 422];
  else if (d.reason === 'AlreadyExists') reason = 'AlreadyExists';
  const kind = typeof d.kind === 'string' ? (KINDS as Record<string, { plural: string; group: string } | undefined>)[d.kind as KindName] : undefined;
  const details = {
    ...(typeof d.name === 'string' ? { name: d.name } : {}),
    ...(kind?.group ? { group: kind.group } : {}),
    ...(kind ? { kind: kind.plural } : {}),
    ...(causes ? { causes } : {}),
  };
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: err.message, reason, ...(Object.keys(details).length ? { details } : {}), code };
}

/** The Router's error formatter for Kubernetes routes: the Status and its own HTTP code. */
export const statusErrorFormat: ErrorFormatter = (err) => {
  const status = statusOf(err);
  return { status: status.code, body: status };
};

/** `deployments.apps "web" not found`, as the API server words it. */
export function notFoundMessage(kind: KindName, name: string): string {
  const info = KINDS[kind];
  return `${info.plural}${info.group ? `.${info.group}` : ''} ${JSON.stringify(name)} not found`;
}
