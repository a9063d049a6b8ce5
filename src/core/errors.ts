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
  /** The client accepts no representation the server can answer in (HTTP 406). */
  NotAcceptable: 'NOT_ACCEPTABLE',
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
  /** A listen address is taken by another process (or not on this host, or not ours to bind). */
  AddressUnavailable: 'ADDRESS_UNAVAILABLE',
  Unauthenticated: 'UNAUTHENTICATED',
  Conflict: 'CONFLICT',
  RateLimited: 'RATE_LIMITED',
  NodeUnavailable: 'NODE_UNAVAILABLE',
  /** The node's pod network is not set up yet (no pod CIDR from the server): pods wait (Kubernetes' NetworkNotReady). */
  NetworkNotReady: 'NETWORK_NOT_READY',
  RolloutFailed: 'ROLLOUT_FAILED',
  /** A data dir (or backup) of an older Grove cannot be upgraded as it is; nothing was changed. */
  UpgradeRefused: 'UPGRADE_REFUSED',
  Timeout: 'TIMEOUT',
  /** A resourceVersion or continue token older than the history the server keeps (HTTP 410): list again. */
  Expired: 'EXPIRED',
  /** A filesystem is full (ENOSPC, EDQUOT), or would be past what must stay free. */
  NoSpace: 'NO_SPACE',
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

/** How a full filesystem is named everywhere (API answers, CLI lines, logs). */
export const NO_SPACE_TEXT = 'no space left on device';

/**
 * True when `err`, or an error in its cause chain, is a full filesystem (ENOSPC) or quota
 * (EDQUOT). LevelDB reports it only in its message ("IO error: …: No space left on device").
 */
export function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === ErrorCode.NoSpace) return true;
    if (code === 'LEVEL_IO_ERROR' && /no space left on device/i.test(e.message)) return true;
  }
  return false;
}

/**
 * A full filesystem, said as such with the path being written: whatever call hit it (a write
 * inside a tar extraction, a download, a rename), and never as a damaged archive or a network
 * failure. An error that already is one is returned as it is.
 */
export function noSpaceError(path: string, cause: unknown): GroveError {
  if (isGroveError(cause, ErrorCode.NoSpace)) return cause;
  return new GroveError(ErrorCode.NoSpace, `${NO_SPACE_TEXT} writing ${path}`, { cause, details: { path } });
}

