/**
 * `continue` tokens of paged lists (`?limit=`): opaque to clients, they carry the list's
 * resourceVersion (so every page shows the same instant) and the position of the last item sent.
 * A token whose version is no longer kept is answered 410 with a fresh token that goes on from
 * the same position at the latest state (`resourceVersion` "-1"), as the API server does.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

/** Larger tokens are not ours: a position is a namespace and a name (253 characters each at most). */
export const MAX_CONTINUE_LENGTH = 2048;
/** The version a token carries after its own expired: go on from the latest state. */
export const LATEST = '-1';

export interface ContinueToken {
  /** The list's resourceVersion (opaque, the source's), or LATEST. */
  resourceVersion: string;
  /** The position of the last item sent (positionOf); the next page starts after it. */
  after: string;
}

const VERSION = 1;

/** An item's position in list order: namespace, then name (the store's key order). */
export function positionOf(object: { metadata: { namespace?: string; name?: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: token.resourceVersion, after: token.after }), 'utf8').toString('base64url');
}

function invalid(why: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `invalid continue token: ${why}`);
}

/** Reads a token a client sent back; anything not made by encodeContinue is a 400. */
export function decodeContinue(text: string): ContinueToken {
  if (text.length > MAX_CONTINUE_LENGTH) throw invalid(`longer than ${MAX_CONTINUE_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) throw invalid('not base64');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a token of this server');
  }
  const t = parsed as { v?: unknown; rv?: unknown; after?: unknown } | null;
  if (typeof t !== 'object' || t === null || t.v !== VERSION) throw invalid('not a token of this server');
  if (typeof t.rv !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(t.rv)) throw invalid('incorrect resourceVersion');
  if (typeof t.after !== 'string' || t.after.length > 600 || !t.after.includes('/')) throw invalid('incorrect position');
  return { resourceVersion: t.rv, after: t.after };
}
