/**
 * POST /v1/nodes/<name>/config-key {password}: how a node that joined before per-node config
 * keys existed gets its key without rejoining. It proves who it is with its MQTT password (the
 * server keeps only its sha256, NodeRecord.credentialHash); the answer travels over the API's
 * TLS. A node whose broker credentials are shared (NATS, EMQX) cannot prove it and must rejoin.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { GroveKeys } from '../core/keys.js';
import type { Store } from '../store/store.js';
import { ensureNodeKey } from './node-keys.js';
import { verifyPassword } from './security/credentials.js';
import { validName } from './request-fields.js';

export async function fetchNodeConfigKey(store: Store, name: string, body: unknown, now: Date): Promise<{ configKey: string }> {
  validName(name, 'node name');
  const password = (body as { password?: unknown } | null)?.password;
  const record = (await store.get<{ credentialHash: string }>(GroveKeys.nodeCredential(name)))?.value;
  // One answer for an unknown node and a wrong password: callers learn nothing about which nodes exist.
  if (typeof password !== 'string' || password.length > 256 || !record || !verifyPassword(password, record.credentialHash)) {
    throw new GroveError(ErrorCode.Unauthenticated, 'wrong node credentials');
  }
  const key = await ensureNodeKey(store, name, now);
  return { configKey: key.toString('base64') };
}
