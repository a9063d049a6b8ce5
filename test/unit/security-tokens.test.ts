import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import {
  authenticateJoinToken,
  createJoinToken,
  joinTokenView,
  listJoinTokens,
  parseJoinToken,
  pruneExpiredTokens,
  revokeJoinToken,
  spendJoinToken,
  verifyJoinToken,
  type JoinTokenRecord,
} from '../../src/server/security/tokens.js';

const FP = 'ab'.repeat(32);
const T0 = new Date('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('join tokens', () => {
  let store: MemoryStore;

  beforeEach(async () => {
    store = new MemoryStore();
    await store.open();
  });

  it('formats grove1.<fingerprint>.<id>.<secret> and stores only the secret hash', async () => {
    const { token, id, expiresAt } = await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: FP, now: T0 });
    expect(token).toMatch(/^grove1\.[0-9a-f]{64}\.[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe('2026-03-01T11:00:00.000Z');
    const parsed = parseJoinToken(token);
    expect(parsed).toMatchObject({ caFingerprint: FP, id });
    const entry = await store.get<JoinTokenRecord>(`grove/tokens/${id}`);
    expect(entry?.value).toEqual({
      id,
      secretHash: createHash('sha256').update(parsed.secret).digest('hex'),
      expiresAt,
      createdAt: T0.toISOString(),
    });
    expect(JSON.stringify(await store.list(''))).not.toContain(parsed.secret);
  });

  it('writes "insecure" without a CA fingerprint and parses it back to undefined', async () => {
    const { token } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: undefined, now: T0 });
    expect(token.split('.')[1]).toBe('insecure');
    expect(parseJoinToken(token).caFingerprint).toBeUndefined();
  });

  it('verifies to the token id, repeatedly, until expiry (one token joins many nodes)', async () => {
    const { token, id } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    expect(await verifyJoinToken(store, token, at(1))).toBe(id);
    expect(await verifyJoinToken(store, token, at(59))).toBe(id);
    expect(await verifyJoinToken(store, ` ${token}\n`, at(59))).toBe(id);
  });

  it('refuses an expired token with "join token expired"', async () => {
    const { token } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    await expect(verifyJoinToken(store, token, at(60))).rejects.toMatchObject({ code: ErrorCode.PermissionDenied, message: 'join token expired' });
  });

  it('refuses a wrong secret, an unknown id, a malformed token and a revoked token as "not recognised"', async () => {
    const { token, id } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    const { secret } = parseJoinToken(token);
    const wrongSecret = token.slice(0, -secret.length) + (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    const unknownId = token.replace(`.${id}.`, id === '00000000' ? '.00000001.' : '.00000000.');
    const notRecognised = { code: ErrorCode.PermissionDenied, message: 'join token not recognised' };
    await expect(verifyJoinToken(store, wrongSecret, at(1))).rejects.toMatchObject(notRecognised);
    await expect(verifyJoinToken(store, unknownId, at(1))).rejects.toMatchObject(notRecognised);
    await expect(verifyJoinToken(store, 'grove1.nope', at(1))).rejects.toMatchObject(notRecognised);
    // An expired token with a wrong secret says nothing about expiry.
    await expect(verifyJoinToken(store, wrongSecret, at(3600))).rejects.toMatchObject(notRecognised);
    expect(await revokeJoinToken(store, id)).toBe(true);
    expect(await revokeJoinToken(store, id)).toBe(false);
    await expect(verifyJoinToken(store, token, at(1))).rejects.toMatchObject(notRecognised);
  });

  it.each([
    '',
    'grove2.insecure.0123abcd.' + 'a'.repeat(43),
    'grove1.insecure.0123abc.' + 'a'.repeat(43),
    'grove1.insecure.0123ABCD.' + 'a'.repeat(43),
    'grove1.AB.0123abcd.' + 'a'.repeat(43),
    'grove1.insecure.0123abcd.' + 'a'.repeat(42),
    'grove1.insecure.0123abcd.' + 'a'.repeat(42) + '=',
    'grove1.insecure.0123abcd.' + 'a'.repeat(43) + '.x',
  ])('parseJoinToken rejects %j without echoing it', (bad) => {
    expect(() => parseJoinToken(bad)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    try {
      parseJoinToken(bad);
    } catch (err) {
      if (bad.length > 10) expect((err as Error).message).not.toContain(bad);
    }
  });

  it('validates the TTL and the fingerprint', async () => {
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN, 11 * 365 * 24 * 3600]) {
      await expect(createJoinToken(store, { ttlSeconds, caFingerprint: FP, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    }
    await expect(createJoinToken(store, { ttlSeconds: 60, caFingerprint: 'AB'.repeat(32), now: T0 })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
  });

  it('lists tokens and prunes the expired ones', async () => {
    await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    const keep = await createJoinToken(store, { ttlSeconds: 600, caFingerprint: FP, now: T0 });
    expect(await listJoinTokens(store)).toHaveLength(2);
    expect(await pruneExpiredTokens(store, at(60))).toBe(1);
    expect((await listJoinTokens(store)).map((t) => t.id)).toEqual([keep.id]);
  });

  it('a token with --uses N joins N times, then says "used up" (only to the holder of its secret)', async () => {
    const { token, id, usesLeft } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0, uses: 2 });
    expect(usesLeft).toBe(2);
    const record = await authenticateJoinToken(store, token, at(1));
    expect(record.usesLeft).toBe(2);
    const once = spendJoinToken(record)!;
    expect(once.usesLeft).toBe(1);
    // The spent record of an uncommitted batch counts over the stored one.
    const twice = spendJoinToken(await authenticateJoinToken(store, token, at(1), new Map([[id, once]])))!;
    expect(twice.usesLeft).toBe(0);
    await expect(authenticateJoinToken(store, token, at(1), new Map([[id, twice]]))).rejects.toMatchObject({ code: ErrorCode.PermissionDenied, message: 'join token used up' });
    const { secret } = parseJoinToken(token);
    const wrong = token.slice(0, -secret.length) + (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    await expect(authenticateJoinToken(store, wrong, at(1), new Map([[id, twice]]))).rejects.toMatchObject({ message: 'join token not recognised' });
    // Without a limit nothing is ever written for a join.
    const unlimited = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    expect(spendJoinToken(await authenticateJoinToken(store, unlimited.token, at(1)))).toBeUndefined();
    for (const uses of [0, -1, 1.5, Number.NaN, 100_001]) {
      await expect(createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0, uses })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    }
  });

  it('the list view carries id, dates and uses left, never the secret hash', async () => {
    const limited = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0, uses: 3 });
    const records = await listJoinTokens(store);
    const views = records.map(joinTokenView);
    expect(views).toContainEqual({ id: limited.id, createdAt: T0.toISOString(), expiresAt: limited.expiresAt, usesLeft: 3 });
    expect(JSON.stringify(views)).not.toContain(records[0]!.secretHash);
    const unlimited = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: FP, now: T0 });
    expect(joinTokenView((await listJoinTokens(store)).find((t) => t.id === unlimited.id)!).usesLeft).toBeNull();
  });
});
