/**
 * Recognising a full filesystem, whoever reports it: Node's fs (`code: 'ENOSPC'`), LevelDB
 * ("IO error: …: No space left on device", nested as a cause by classic-level) or a child
 * process's stderr. Every message Grove shows for it says NO_SPACE_TEXT, so an operator
 * reading an API answer, a CLI line or a log sees the same words.
 */

export const NO_SPACE_TEXT = 'no space left on device';

const NO_SPACE_RE = /\bENOSPC\b|no space left on device/i;

/** Whether err or one of its causes says the filesystem is full. */
export function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'ENOSPC') return true;
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (NO_SPACE_RE.test(message)) return true;
  }
  return false;
}
