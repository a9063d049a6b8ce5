/** The error every store failure becomes, naming a full disk the same way everywhere. */
import { ErrorCode, GroveError, errorMessage, isNoSpace, NO_SPACE_TEXT } from '../core/errors.js';

/**
 * StoreError `message: reason` with the cause's text; for a full disk NoSpace (HTTP 507)
 * `message: no space left on device`, in the API answer, the CLI line and the log alike.
 */
export function storeError(message: string, cause?: unknown, details: Record<string, unknown> = {}): GroveError {
  const noSpace = cause !== undefined && isNoSpace(cause);
  const reason = cause === undefined ? '' : `: ${noSpace ? NO_SPACE_TEXT : errorMessage(cause)}`;
  return new GroveError(noSpace ? ErrorCode.NoSpace : ErrorCode.StoreError, `${message}${reason}`, { cause, details });
}

/** Whether err or one of its causes carries this code (classic-level nests the real reason). */
export function hasCode(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}
