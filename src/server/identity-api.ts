/**
 * The server's side of join tokens and joins (docs/security.md, "Join tokens"): `grove token
 * create|list|revoke` and the batched commit of joins, where a use-limited token's count goes
 * down in the same commit as the joins it admitted.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { Outcome } from '../core/batcher.js';
import type { Store, StoreOp } from '../store/store.js';
import { newNodeKey } from './node-keys.js';
import { prepareJoin, tokenPut, type JoinResult, type NodeRegistration } from './nodes.js';
import {
  createJoinToken,
  joinTokenView,
  listJoinTokens,
  pruneExpiredTokens,
  revokeJoinToken,
  type CreatedJoinToken,
  type JoinTokenRecord,
  type JoinTokenView,
} from './security/tokens.js';
import type { StoredNode } from './status-cache.js';
import { invalid, isObj, onlyKeys } from './validate-primitives.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;

export interface JoinOutcome {
  result: JoinResult;
  registration: NodeRegistration;
  configKey: Buffer;
}

/**
 * Joins arriving together, written in one synced commit (a join storm is N fsyncs otherwise).
 * A join that fails (bad token, name taken) fails alone and spends nothing.
 */
export async function commitJoinBatch(store: Store, bodies: unknown[], now: Date): Promise<Outcome<JoinOutcome>[]> {
  const pending = new Map<string, StoredNode>();
  const pendingTokens = new Map<string, JoinTokenRecord>();
  // Every join issues a fresh config key (a rejoin rotates it), committed with the record.
  const keyOps = new Map<string, StoreOp>();
  const outcomes: Outcome<JoinOutcome>[] = [];
  for (const body of bodies) {
    try {
      const prepared = await prepareJoin(store, body, now, { pending, pendingTokens });
      pending.set(prepared.key, prepared.record);
      if (prepared.token) pendingTokens.set(prepared.token.id, prepared.token);
      const fresh = newNodeKey(prepared.result.node, now);
      keyOps.set(prepared.result.node, fresh.op);
      outcomes.push({ ok: true, value: { result: prepared.result, registration: prepared.registration, configKey: fresh.key } });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  if (pending.size > 0) {
    await store.commit([...[...pending].map(([key, value]): StoreOp => ({ type: 'put', key, value })), ...keyOps.values(), ...[...pendingTokens.values()].map(tokenPut)]);
  }
  return outcomes;
}

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
