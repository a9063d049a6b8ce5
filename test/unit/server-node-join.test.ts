/**
 * Node identity on the server (src/server/objects/node-registry.ts, nodes.ts): a taken name joins again
 * only with its credential (or the server's own host), a retried join proves itself with the
 * password it proposed, use-limited tokens are counted in the join's own commit, and a deleted
 * node's name is free again.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { GroveKeys } from '../../src/core/keys.js';
import type { Store } from '../../src/store/store.js';
import { nodeKeyKey } from '../../src/server/node-keys.js';
import { NodeRegistry, type NodeCredentialRecord, type NodeJoined } from '../../src/server/objects/node-registry.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { generatePassword, hashPassword } from '../../src/server/security/credentials.js';
import { createJoinToken, type JoinTokenRecord } from '../../src/server/security/tokens.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const TAKEN = 'node pi-3 already exists: delete it first (grove node delete pi-3) or join with its current credential';

const registryOf = (store: Store) => new NodeRegistry(new ObjectStore({ store, clock: new ManualClock(T0.getTime()) }));
/** One join through the registry (a batch of one), throwing its error. */
async function joinNode(store: Store, body: object, now: Date, options: { replaceExisting?: boolean } = {}): Promise<NodeJoined> {
  const [outcome] = await registryOf(store).joinBatch([body], now, options);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.value;
}
const commitJoinBatch = (store: Store, bodies: object[], now: Date) => registryOf(store).joinBatch(bodies, now);
const deleteNode = (store: Store, name: string) => registryOf(store).delete(name);

describe('joining under a node name', () => {
  let store: MemoryStore;
  let token: string;

  beforeEach(async () => {
    store = new MemoryStore();
    await store.open();
    token = (await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0 })).token;
  });

  const record = async (name: string) => {
    const node = (await store.get<{ metadata: { labels?: Record<string, string> } }>(`nodes/${name}`))?.value;
    const credential = (await store.get<NodeCredentialRecord>(GroveKeys.nodeCredential(name)))?.value;
    return node && { labels: node.metadata.labels ?? {}, credentialHash: credential?.credentialHash };
  };

  it('refuses a taken name to a valid token without the credential, or with a wrong one; accepts the current credential', async () => {
    const first = await joinNode(store, { token, nodeName: 'pi-3', labels: { zone: 'a' } }, T0);
    const revision = store.revision();
    await expect(joinNode(store, { token, nodeName: 'pi-3' }, T0)).rejects.toMatchObject({ code: ErrorCode.Conflict, message: TAKEN });
    await expect(joinNode(store, { token, nodeName: 'pi-3', credential: generatePassword() }, T0)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      message: 'node pi-3 already exists and the credential presented is not its current one: delete it first (grove node delete pi-3) or join with its current credential',
    });
    // A proposed password is no proof either.
    await expect(joinNode(store, { token, nodeName: 'pi-3', password: generatePassword() }, T0)).rejects.toMatchObject({ code: ErrorCode.Conflict });
    expect(store.revision()).toBe(revision);
    expect((await record('pi-3'))?.credentialHash).toBe(hashPassword(first.result.password));

    const again = await joinNode(store, { token, nodeName: 'pi-3', credential: first.result.password, labels: { zone: 'vault' } }, T0);
    expect(again.result.password).not.toBe(first.result.password);
    const rec = await record('pi-3');
    expect(rec?.credentialHash).toBe(hashPassword(again.result.password));
    // Labels in a join request label a node only when it is created.
    expect(rec?.labels).toMatchObject({ zone: 'a' });
  });

  it('a join repeated with the password it proposed (its answer was lost) proves the name', async () => {
    const password = generatePassword();
    const first = await joinNode(store, { token, nodeName: 'pi-3', password }, T0);
    expect(first.result.password).toBe(password);
    const retried = await joinNode(store, { token, nodeName: 'pi-3', password }, T0);
    expect(retried.result.password).toBe(password);
    await expect(joinNode(store, { token, nodeName: 'pi-3', password: 'short' }, T0)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it('keeps the node prefix and the well-known labels out of the record; the server\'s own host needs no credential', async () => {
    await joinNode(store, { token, nodeName: 'pi-3', labels: { zone: 'a', 'node.grove.io/sensor': 'x', 'kubernetes.io/os': 'plan9' } }, T0);
    expect((await record('pi-3'))?.labels).toEqual({ zone: 'a', 'kubernetes.io/hostname': 'pi-3' });
    const local = await joinNode(store, { token, nodeName: 'pi-3' }, T0, { replaceExisting: true });
    expect((await record('pi-3'))?.credentialHash).toBe(hashPassword(local.result.password));
  });

  it('checks the token before the name: an unauthenticated caller learns nothing about which nodes exist', async () => {
    await joinNode(store, { token, nodeName: 'pi-3' }, T0);
    await expect(joinNode(store, { token: 'grove1.insecure.00000000.' + 'a'.repeat(43), nodeName: 'pi-3' }, T0)).rejects.toMatchObject({ code: ErrorCode.PermissionDenied, message: 'join token not recognised' });
  });

  it('after a delete the name joins again with any valid token, and the config key is gone with the record', async () => {
    await joinNode(store, { token, nodeName: 'pi-3' }, T0);
    await store.commit([{ type: 'put', key: nodeKeyKey('pi-3'), value: { key: 'k', createdAt: T0.toISOString() } }]);
    const before = store.revision();
    await deleteNode(store, 'pi-3');
    expect(store.revision()).toBe(before + 1); // one commit
    expect(await record('pi-3')).toBeUndefined();
    expect(await store.get(nodeKeyKey('pi-3'))).toBeUndefined();
    expect(await store.get(GroveKeys.nodeCredential('pi-3'))).toBeUndefined();
    await expect(deleteNode(store, 'pi-3')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(deleteNode(store, 'Bad_Name')).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    await joinNode(store, { token, nodeName: 'pi-3' }, T0);
    expect(await record('pi-3')).toBeDefined();
  });
});

describe('use-limited tokens in a batch of joins', () => {
  it('counts uses in the same commit as the joins; refused joins spend nothing', async () => {
    const store = new MemoryStore();
    await store.open();
    const limited = await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0, uses: 2 });
    const other = await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0 });
    await joinNode(store, { token: other.token, nodeName: 'taken' }, T0);
    const before = store.revision();
    const outcomes = await commitJoinBatch(
      store,
      [
        { token: limited.token, nodeName: 'a' },
        { token: limited.token, nodeName: 'taken' }, // refused: spends nothing
        { token: limited.token, nodeName: 'b' },
        { token: limited.token, nodeName: 'c' }, // the third use: used up
      ],
      T0,
    );
    expect(outcomes.map((o) => (o.ok ? 'ok' : (o.error as Error).message))).toEqual(['ok', TAKEN.replaceAll('pi-3', 'taken'), 'ok', 'join token used up']);
    expect(store.revision()).toBe(before + 1);
    expect((await store.get<JoinTokenRecord>(`grove/tokens/${limited.id}`))?.value.usesLeft).toBe(0);
    expect(await store.get(nodeKeyKey('a'))).toBeDefined();
    // A token without a limit is never rewritten by a join.
    const unlimitedRev = (await store.get(`grove/tokens/${other.id}`))?.revision;
    await commitJoinBatch(store, [{ token: other.token, nodeName: 'd' }], T0);
    expect((await store.get(`grove/tokens/${other.id}`))?.revision).toBe(unlimitedRev);
  });

  it('a --uses 1 token joins once, one join after the other', async () => {
    const store = new MemoryStore();
    await store.open();
    const once = await createJoinToken(store, { ttlSeconds: 3600, caFingerprint: undefined, now: T0, uses: 1 });
    expect((await commitJoinBatch(store, [{ token: once.token, nodeName: 'a' }], T0))[0]?.ok).toBe(true);
    const second = (await commitJoinBatch(store, [{ token: once.token, nodeName: 'b' }], T0))[0];
    expect(second?.ok).toBe(false);
    expect(second && !second.ok && (second.error as Error).message).toBe('join token used up');
    await expect(joinNode(store, { token: once.token, nodeName: 'b' }, T0)).rejects.toMatchObject({ code: ErrorCode.PermissionDenied });
  });
});
