/**
 * Node membership: join (token → record + fresh MQTT credentials) and the operator's edits
 * (labels, cordon). Both are read-modify-write on nodes/<name>, so callers run them under the
 * ControlPlane's store mutex.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { issueNodeCredentials } from './security/credentials.js';
import { verifyJoinToken } from './security/tokens.js';
import type { StoredNode } from './status-cache.js';
import { keyFor } from './resources.js';
import { invalid, labelKey, labelValue, name as validName } from './validate.js';

const MAX_LABELS = 100;

type Obj = Record<string, unknown>;

function body(v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('body', 'expected a JSON object');
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(k, 'unknown field');
}

function labelMap(v: unknown, path: string, allowNull: boolean): Record<string, string | null> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(path, 'expected an object of label values');
  const entries = Object.entries(v as Obj);
  if (entries.length > MAX_LABELS) throw invalid(path, `more than ${MAX_LABELS} labels`);
  const out: Record<string, string | null> = {};
  for (const [k, value] of entries) {
    labelKey(k, path);
    const val = value === null && allowNull ? null : labelValue(value, `${path}.${k}`);
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface NodeRegistration {
  name: string;
  username: string;
  /** Plain password: only here, in the join answer and in the hook (an external broker's password file needs it). */
  password: string;
  credentialHash: string;
}

export interface JoinResult {
  node: string;
  username: string;
  password: string;
}

/**
 * Verifies the join token, then creates or updates nodes/<name> with fresh credentials.
 * Re-joining under the same name rotates the password (the old one stops working) and keeps
 * labels, cordon and readiness; labels given at join are merged over the existing ones.
 */
export async function joinNode(store: Store, input: unknown, now: Date): Promise<{ result: JoinResult; registration: NodeRegistration }> {
  const prepared = await prepareJoin(store, input, now);
  await store.commit([{ type: 'put', key: prepared.key, value: prepared.record }]);
  return { result: prepared.result, registration: prepared.registration };
}

export interface PreparedJoin {
  key: string;
  record: StoredNode;
  result: JoinResult;
  registration: NodeRegistration;
}

/**
 * joinNode without the write, so that a storm of joins can be committed in one batch.
 * `pending` holds records prepared earlier in the same batch: a node joining twice in one batch
 * builds on its first record, as it would one after the other.
 */
export async function prepareJoin(store: Store, input: unknown, now: Date, pending?: Map<string, StoredNode>): Promise<PreparedJoin> {
  const o = body(input);
  onlyKeys(o, ['token', 'nodeName', 'labels']);
  if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > 512) throw invalid('token', 'a join token is required');
  const nodeName = validName(o.nodeName, 'nodeName');
  const labels = o.labels === undefined ? {} : (labelMap(o.labels, 'labels', false) as Record<string, string>);
  // The token is checked before anything else is looked at: an unauthenticated caller learns
  // nothing about which nodes exist.
  await verifyJoinToken(store, o.token, now);
  const key = keyFor('Node', nodeName);
  const existing = pending?.get(key) ?? (await store.get<StoredNode>(key))?.value;
  const creds = issueNodeCredentials(nodeName);
  const record: StoredNode = {
    ...(existing ?? {}),
    kind: 'Node',
    meta: {
      name: nodeName,
      labels: { ...(existing?.meta.labels ?? {}), ...labels },
      annotations: existing?.meta.annotations ?? {},
      createdAt: existing?.meta.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    },
    cordoned: existing?.cordoned ?? false,
    credentialHash: creds.hash,
    joinedAt: now.toISOString(),
  };
  return {
    key,
    record,
    result: { node: nodeName, username: creds.username, password: creds.password },
    registration: { name: nodeName, username: creds.username, password: creds.password, credentialHash: creds.hash },
  };
}

/** PATCH {labels?: {k: string | null}, cordoned?: boolean}; null removes a label. */
export async function patchNode(store: Store, name: string, input: unknown, now: Date): Promise<StoredNode> {
  validName(name, 'node name');
  const o = body(input);
  onlyKeys(o, ['labels', 'cordoned']);
  const changes = o.labels === undefined ? {} : labelMap(o.labels, 'labels', true);
  if (o.cordoned !== undefined && typeof o.cordoned !== 'boolean') throw invalid('cordoned', 'expected true or false');
  const key = keyFor('Node', name);
  const existing = (await store.get<StoredNode>(key))?.value;
  if (!existing) throw new GroveError(ErrorCode.NotFound, `node "${name}" not found`, { details: { kind: 'Node', name } });
  const labels = { ...existing.meta.labels };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete labels[k];
    else labels[k] = v;
  }
  if (Object.keys(labels).length > MAX_LABELS) throw invalid('labels', `a node may carry at most ${MAX_LABELS} labels`);
  const cordoned = typeof o.cordoned === 'boolean' ? o.cordoned : existing.cordoned;
  const unchanged = cordoned === existing.cordoned && JSON.stringify(Object.entries(labels).sort()) === JSON.stringify(Object.entries(existing.meta.labels).sort());
  if (unchanged) return existing;
  const record: StoredNode = { ...existing, meta: { ...existing.meta, labels, updatedAt: now.toISOString() }, cordoned };
  await store.commit([{ type: 'put', key, value: record }]);
  return record;
}
