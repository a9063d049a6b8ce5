/**
 * Typed errors with stable codes. The CLI prints `message` (one line) for a user mistake and
 * the stack only with --debug; programs match on `code`, never on message text.
 */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  InvalidImageReference: 'INVALID_IMAGE_REFERENCE',
  ImageNotFound: 'IMAGE_NOT_FOUND',
  ImageInUse: 'IMAGE_IN_USE',
  ManifestInvalid: 'MANIFEST_INVALID',
  PlatformNotFound: 'PLATFORM_NOT_FOUND',
  RegistryAuth: 'REGISTRY_AUTH',
  RegistryUnavailable: 'REGISTRY_UNAVAILABLE',
  RegistryError: 'REGISTRY_ERROR',
  InsecureRegistry: 'INSECURE_REGISTRY',
  DigestMismatch: 'DIGEST_MISMATCH',
  SizeLimit: 'SIZE_LIMIT',
  UnsafeLayer: 'UNSAFE_LAYER',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  ArchiveInvalid: 'ARCHIVE_INVALID',
  ContainerNotFound: 'CONTAINER_NOT_FOUND',
  ContainerExists: 'CONTAINER_EXISTS',
  ContainerRunning: 'CONTAINER_RUNNING',
  ContainerNotRunning: 'CONTAINER_NOT_RUNNING',
  RuntimeNotFound: 'RUNTIME_NOT_FOUND',
  RuntimeFailed: 'RUNTIME_FAILED',
  ShimFailed: 'SHIM_FAILED',
  ConfigInvalid: 'CONFIG_INVALID',
  PermissionDenied: 'PERMISSION_DENIED',
  WireInvalid: 'WIRE_INVALID',
  StoreError: 'STORE_ERROR',
  NotFound: 'NOT_FOUND',
  ServerUnavailable: 'SERVER_UNAVAILABLE',
  Unauthenticated: 'UNAUTHENTICATED',
  Conflict: 'CONFLICT',
  RateLimited: 'RATE_LIMITED',
  NodeUnavailable: 'NODE_UNAVAILABLE',
  RolloutFailed: 'ROLLOUT_FAILED',
  Timeout: 'TIMEOUT',
  Internal: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface GroveErrorOptions {
  cause?: unknown;
  /** Extra machine-readable context (file, field, digest …) for logs and API bodies. */
  details?: Record<string, unknown>;
}

export class GroveError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: GroveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GroveError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isGroveError(err: unknown, code?: ErrorCode): err is GroveError {
  return err instanceof GroveError && (code === undefined || err.code === code);
}

/** A one-line description of any thrown value, for logs and the CLI. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
