/**
 * Per-node config keys: 32 random bytes per node, under grove/nodekeys/<node> (sealed with the server
 * key by SealedStore). The node receives its key in the join answer (over the join's
 * token-authenticated HTTP(S) request) and the server encrypts that node's config bundles with
 * it, so the broker never holds ConfigMap or Secret plaintext. Re-joining rotates the key.
 */
import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../core/seal.js';
import { GroveKeys } from '../core/keys.js';
import type { Store, StoreOp } from '../store/store.js';

export const NODE_KEY_PREFIX = GroveKeys.nodeKeyPrefix;

export interface NodeKeyRecord {
  /** base64 of the 32-byte key. */
  key: string;
  createdAt: string;
}

export function nodeKeyKey(node: string): string {
  return GroveKeys.nodeKey(node);
}

/** A fresh key for `node` and the store op recording it (committed with the join). */
export function newNodeKey(node: string, now: Date): { key: Buffer; op: StoreOp } {
  const key = randomBytes(KEY_BYTES);
  const value: NodeKeyRecord = { key: key.toString('base64'), createdAt: now.toISOString() };
  return { key, op: { type: 'put', key: nodeKeyKey(node), value } };
}

export async function getNodeKey(store: Store, node: string): Promise<Buffer | undefined> {
  const record = (await store.get<NodeKeyRecord>(nodeKeyKey(node)))?.value;
  if (!record || typeof record.key !== 'string') return undefined;
  const key = Buffer.from(record.key, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

/** The node's key, created (one commit) when it has none: nodes that joined before keys existed. */
export async function ensureNodeKey(store: Store, node: string, now: Date): Promise<Buffer> {
  const existing = await getNodeKey(store, node);
  if (existing) return existing;
  const fresh = newNodeKey(node, now);
  await store.commit([fresh.op]);
  return fresh.key;
}
