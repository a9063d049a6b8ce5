/**
 * Node membership: join (token → record + fresh MQTT credentials), the operator's edits
 * (labels, cordon) and deletion. All are read-modify-write on nodes/<name>, so callers run
 * them under the ControlPlane's store mutex.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { Store, StoreOp } from '../store/store.js';
import { isAcceptablePassword, issueNodeCredentials, verifyPassword } from './security/credentials.js';
import { authenticateJoinToken, joinTokenKey, spendJoinToken, type JoinTokenRecord } from './security/tokens.js';
import { joinLabels } from './node-labels.js';
import { nodeKeyKey } from './node-keys.js';
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

/** At most this long: a node's credential is a 43-character base64url password. */
const MAX_CREDENTIAL_CHARS = 256;

export interface PrepareJoinOptions {
  /** Node records prepared earlier in the same batch: a node joining twice builds on its first record. */
  pending?: ReadonlyMap<string, StoredNode>;
  /** Token records spent earlier in the same batch (their use counts are what counts). */
  pendingTokens?: ReadonlyMap<string, JoinTokenRecord>;
  /**
   * Take over an existing record without its credential. Only for the server's own host
   * (local-join.ts), which proves who it is by being the server.
   */
  replaceExisting?: boolean;
}

/**
 * Verifies the join token, then creates nodes/<name> with fresh credentials, or replaces the
 * credentials of an existing node that proves it is that node (its current credential).
 */
export async function joinNode(store: Store, input: unknown, now: Date, options: Pick<PrepareJoinOptions, 'replaceExisting'> = {}): Promise<{ result: JoinResult; registration: NodeRegistration }> {
  const prepared = await prepareJoin(store, input, now, options);
  await store.commit([{ type: 'put', key: prepared.key, value: prepared.record }, ...(prepared.token ? [tokenPut(prepared.token)] : [])]);
  return { result: prepared.result, registration: prepared.registration };
}

export interface PreparedJoin {
  key: string;
  record: StoredNode;
  result: JoinResult;
  registration: NodeRegistration;
  /** The join token's record with this join's use counted; absent for a token without a limit. */
  token?: JoinTokenRecord;
}

export function tokenPut(record: JoinTokenRecord): StoreOp {
  return { type: 'put', key: joinTokenKey(record.id), value: record };
}

/** A join request's body, checked: {token, nodeName, labels?, credential?, password?}. */
export interface JoinBody {
  token: string;
  nodeName: string;
  labels: Record<string, string>;
  /** The node's current credential, when it joins again under its name. */
  credential?: string;
  /** The new credential the node proposes (else the server draws one). */
  password?: string;
}

export function parseJoinBody(input: unknown): JoinBody {
  const o = body(input);
  onlyKeys(o, ['token', 'nodeName', 'labels', 'credential', 'password']);
  if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > 512) throw invalid('token', 'a join token is required');
  const nodeName = validName(o.nodeName, 'nodeName');
  const labels = o.labels === undefined ? {} : (labelMap(o.labels, 'labels', false) as Record<string, string>);
  if (o.credential !== undefined && (typeof o.credential !== 'string' || o.credential.length === 0 || o.credential.length > MAX_CREDENTIAL_CHARS)) {
    throw invalid('credential', `expected the node's current credential (at most ${MAX_CREDENTIAL_CHARS} characters)`);
  }
  if (o.password !== undefined && !isAcceptablePassword(o.password)) throw invalid('password', 'a proposed node password is 32 to 256 base64url characters');
  return { token: o.token, nodeName, labels, ...(o.credential !== undefined ? { credential: o.credential as string } : {}), ...(o.password !== undefined ? { password: o.password as string } : {}) };
}

/**
 * A name that is taken joins again only with proof that the caller is that node: its current
 * credential, or the very password this join proposes already in place (the join went through
 * before and its answer was lost: the node holds the credential, it only asks again).
 */
export function proveNodeIdentity(join: Pick<JoinBody, 'nodeName' | 'credential' | 'password'>, credentialHash: string): void {
  const proven = (join.credential !== undefined && verifyPassword(join.credential, credentialHash)) || (join.password !== undefined && verifyPassword(join.password, credentialHash));
  if (!proven) throw nameTaken(join.nodeName, join.credential !== undefined);
}

function nameTaken(node: string, presented: boolean): GroveError {
  const why = presented ? 'and the credential presented is not its current one' : '';
  return new GroveError(ErrorCode.Conflict, `node ${node} already exists${why ? ' ' + why : ''}: delete it first (grove node delete ${node}) or join with its current credential`, {
    details: { kind: 'Node', name: node },
  });
}

/**
 * joinNode without the write, so that a storm of joins can be committed in one batch.
 *
 * Body: {token, nodeName, labels?, credential?, password?}. A name that is taken can only be
 * joined again by the node that holds it: it presents its current credential (its MQTT
 * password, checked against credentialHash), as a k3s agent proves its node password. Anyone
 * else with a valid token is refused, so a join token cannot take over a running node, its
 * config key and its Secrets. `password` is the new credential the node proposes (else the
 * server draws one). A rejoin rotates the password and keeps labels, cordon and readiness;
 * labels in the request count only when the node is created (node-labels.ts joinLabels).
 */
export async function prepareJoin(store: Store, input: unknown, now: Date, options: PrepareJoinOptions = {}): Promise<PreparedJoin> {
  const join = parseJoinBody(input);
  const { nodeName, labels } = join;
  // The token is checked before anything else is looked at: an unauthenticated caller learns
  // nothing about which nodes exist.
  const token = await authenticateJoinToken(store, join.token, now, options.pendingTokens);
  const key = keyFor('Node', nodeName);
  const existing = options.pending?.get(key) ?? (await store.get<StoredNode>(key))?.value;
  const proposed = join.password;
  if (existing && !options.replaceExisting) proveNodeIdentity(join, existing.credentialHash);
  const creds = issueNodeCredentials(nodeName, proposed);
  const record: StoredNode = {
    ...(existing ?? {}),
    kind: 'Node',
    meta: {
      name: nodeName,
      labels: existing ? existing.meta.labels : joinLabels(labels),
      annotations: existing?.meta.annotations ?? {},
      createdAt: existing?.meta.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    },
    cordoned: existing?.cordoned ?? false,
    credentialHash: creds.hash,
    joinedAt: now.toISOString(),
  };
  const spent = spendJoinToken(token);
  return {
    key,
    record,
    result: { node: nodeName, username: creds.username, password: creds.password },
    registration: { name: nodeName, username: creds.username, password: creds.password, credentialHash: creds.hash },
    ...(spent ? { token: spent } : {}),
  };
}

/**
 * Removes a node: its record (so its MQTT login is refused from its next CONNECT: the broker
 * looks the credential up there) and its config key, in one commit. The controller then moves
 * its Deployment pods and clears its retained target and config, as for any node that is gone.
 */
export async function deleteNode(store: Store, name: string): Promise<void> {
  validName(name, 'node name');
  const key = keyFor('Node', name);
  if ((await store.get(key)) === undefined) throw new GroveError(ErrorCode.NotFound, `node "${name}" not found`, { details: { kind: 'Node', name } });
  await store.commit([
    { type: 'delete', key },
    { type: 'delete', key: nodeKeyKey(name) },
  ]);
}

/** A node edit (PATCH /v1/nodes/<name>): label values (null removes one) and cordon. */
export interface NodePatch {
  labels: Record<string, string | null>;
  cordoned?: boolean;
}

/** PATCH {labels?: {k: string | null}, cordoned?: boolean}, checked. */
export function parseNodePatch(input: unknown): NodePatch {
  const o = body(input);
  onlyKeys(o, ['labels', 'cordoned']);
  const labels = o.labels === undefined ? {} : labelMap(o.labels, 'labels', true);
  if (o.cordoned !== undefined && typeof o.cordoned !== 'boolean') throw invalid('cordoned', 'expected true or false');
  return { labels, ...(typeof o.cordoned === 'boolean' ? { cordoned: o.cordoned } : {}) };
}

/** At most MAX_LABELS labels on a node. */
export function checkLabelCount(labels: Readonly<Record<string, string>>): void {
  if (Object.keys(labels).length > MAX_LABELS) throw invalid('labels', `a node may carry at most ${MAX_LABELS} labels`);
}

/** PATCH {labels?: {k: string | null}, cordoned?: boolean}; null removes a label. */
export async function patchNode(store: Store, name: string, input: unknown, now: Date): Promise<StoredNode> {
  validName(name, 'node name');
  const { labels: changes, cordoned: wanted } = parseNodePatch(input);
  const key = keyFor('Node', name);
  const existing = (await store.get<StoredNode>(key))?.value;
  if (!existing) throw new GroveError(ErrorCode.NotFound, `node "${name}" not found`, { details: { kind: 'Node', name } });
  const labels = { ...existing.meta.labels };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete labels[k];
    else labels[k] = v;
  }
  checkLabelCount(labels);
  const cordoned = wanted ?? existing.cordoned;
  const unchanged = cordoned === existing.cordoned && JSON.stringify(Object.entries(labels).sort()) === JSON.stringify(Object.entries(existing.meta.labels).sort());
  if (unchanged) return existing;
  const record: StoredNode = { ...existing, meta: { ...existing.meta, labels, updatedAt: now.toISOString() }, cordoned };
  await store.commit([{ type: 'put', key, value: record }]);
  return record;
}
