/**
 * A Kubernetes `Status` error body (what the object routes and `POST /v1/apply` answer with) as a
 * GroveError: the reason as a stable code, the message and each cause on a line of its own
 * (`spec.replicas: must be ≥ 0`), so the CLI prints one line per problem.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

export interface KubeStatus {
  kind: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

const BY_REASON: Readonly<Record<string, ErrorCode>> = {
  NotFound: ErrorCode.NotFound,
  AlreadyExists: ErrorCode.Conflict,
  Conflict: ErrorCode.Conflict,
  Invalid: ErrorCode.ManifestInvalid,
  BadRequest: ErrorCode.InvalidArgument,
  Forbidden: ErrorCode.PermissionDenied,
  Unauthorized: ErrorCode.Unauthenticated,
  RequestEntityTooLarge: ErrorCode.SizeLimit,
  TooManyRequests: ErrorCode.RateLimited,
  ServiceUnavailable: ErrorCode.ServerUnavailable,
  Timeout: ErrorCode.Timeout,
};

/** At most this many causes are printed; the rest are counted. */
const MAX_CAUSES = 50;

export function isKubeStatus(body: unknown): body is KubeStatus {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function kubeStatusError(httpStatus: number, status: KubeStatus): GroveError {
  const code = BY_REASON[status.reason ?? ''] ?? (httpStatus === 404 ? ErrorCode.NotFound : ErrorCode.Internal);
  const causes = status.details?.causes ?? [];
  const lines = causes.slice(0, MAX_CAUSES).map((c) => oneLine(`${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? 'invalid'}`));
  if (causes.length > MAX_CAUSES) lines.push(`… and ${causes.length - MAX_CAUSES} more problems`);
  const head = oneLine(status.message ?? `server answered HTTP ${httpStatus}`);
  return new GroveError(code, [head, ...lines].join('\n'), { details: { status: httpStatus, ...(status.reason ? { reason: status.reason } : {}), ...(causes.length ? { causes } : {}) } });
}
