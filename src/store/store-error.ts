/** The StoreError every store failure becomes, naming a full disk the same way everywhere. */
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import { isNoSpace, NO_SPACE_TEXT } from '../core/no-space.js';

/** `message: reason` with the cause's text, or "no space left on device" for a full disk (API answer, CLI line, log alike). */
export function storeError(message: string, cause?: unknown, details: Record<string, unknown> = {}): GroveError {
  const noSpace = cause !== undefined && isNoSpace(cause);
  const reason = cause === undefined ? '' : `: ${noSpace ? NO_SPACE_TEXT : errorMessage(cause)}`;
  return new GroveError(ErrorCode.StoreError, `${message}${reason}`, { cause, details: noSpace ? { ...details, noSpace } : details });
}

/** Whether err or one of its causes carries this code (classic-level nests the real reason). */
export function hasCode(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}
