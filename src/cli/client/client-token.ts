import { ErrorCode, GroveError } from '../../core/errors.js';

/** RFC 6750's b64token: what an HTTP Bearer token may be made of. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MIN_TOKEN_CHARS = 16;
const MAX_TOKEN_CHARS = 4096;

/** A name for the first character a token may not contain, never the character's neighbours. */
function describeBadCharacter(token: string): string {
  const chars = Array.from(token);
  const index = chars.findIndex((c, i) => !BEARER_TOKEN.test(c) && !(c === '=' && chars.slice(i).every((x) => x === '=')));
  const c = chars[index] ?? '';
  const what = c === '\n' || c === '\r' ? 'a line break' : /\s/u.test(c) ? 'a space' : /\p{Cc}/u.test(c) ? 'a control character' : c.charCodeAt(0) > 0x7e ? 'a non-ASCII character' : `"${c}"`;
  return `${what} at character ${index + 1}`;
}

/**
 * The API token of a client verb, checked before it goes into an Authorization header. Says
 * what is wrong and `source` (where the token came from) but never echoes the token: it is the
 * cluster's admin credential even when mangled. Surrounding whitespace (a trailing newline of a
 * hand-edited file) is dropped.
 */
export function checkClientToken(raw: unknown, source: string): string {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${source}: token is missing`);
  }
  const malformed = (why: string): GroveError => new GroveError(ErrorCode.ConfigInvalid, `${source}: token is malformed: ${why}`);
  if (typeof raw !== 'string') throw malformed(`expected a string, found ${Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}`);
  const token = raw.trim();
  if (token.length > MAX_TOKEN_CHARS) throw malformed(`longer than ${MAX_TOKEN_CHARS} characters`);
  if (!BEARER_TOKEN.test(token)) throw malformed(`${describeBadCharacter(token)} (a token is letters, digits and -._~+/ only)`);
  if (token.startsWith('grove1.')) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${source}: token is a join token (grove1.…), not the admin token: client verbs need the token in <data-dir>/server/admin-token`);
  }
  if (token.length < MIN_TOKEN_CHARS) throw malformed(`too short for an admin token (at least ${MIN_TOKEN_CHARS} characters)`);
  return token;
}
