/**
 * The server's side of join tokens (docs/security.md, "Join tokens"): `grove token
 * create|list|revoke`. Joins are NodeRegistry's (objects/node-registry.ts), where a use-limited
 * token's count goes down in the same commit as the joins it admitted.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import {
  createJoinToken,
  joinTokenView,
  listJoinTokens,
  pruneExpiredTokens,
  revokeJoinToken,
  type CreatedJoinToken,
  type JoinTokenView,
} from './security/tokens.js';
import { invalid, isObj, onlyKeys } from './request-fields.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;

/** POST /v1/tokens {ttlSeconds?, uses?}; run under the store mutex. */
export async function createTokenFromBody(store: Store, body: unknown, ctx: { now: Date; caFingerprint: string | undefined }): Promise<CreatedJoinToken> {
  const o = body === undefined || body === null ? {} : body;
  if (!isObj(o)) throw invalid('body', 'expected {"ttlSeconds": N, "uses": N}');
  onlyKeys(o, 'body', ['ttlSeconds', 'uses']);
  const ttl = o.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (typeof ttl !== 'number') throw invalid('ttlSeconds', 'expected a number of seconds');
  if (o.uses !== undefined && typeof o.uses !== 'number') throw invalid('uses', 'expected a number of joins');
  // Housekeeping rides on a write that happens anyway: expired tokens are refused either way.
  await pruneExpiredTokens(store, ctx.now);
  return createJoinToken(store, { ttlSeconds: ttl, caFingerprint: ctx.caFingerprint, now: ctx.now, ...(o.uses !== undefined ? { uses: o.uses } : {}) });
}

/** GET /v1/tokens: oldest first, never a secret or its hash. */
export async function listTokenViews(store: Store): Promise<JoinTokenView[]> {
  return (await listJoinTokens(store)).map(joinTokenView).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
}

/** DELETE /v1/tokens/<id>; run under the store mutex. */
export async function revokeTokenById(store: Store, id: string): Promise<{ id: string; revoked: true }> {
  if (!(await revokeJoinToken(store, id))) throw new GroveError(ErrorCode.NotFound, `join token ${id} not found`, { details: { kind: 'JoinToken', id } });
  return { id, revoked: true };
}
