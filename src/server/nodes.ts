/**
 * Node membership's rules: the join body, the proof a taken name needs, the node edit body and
 * the label limits. NodeRegistry (objects/node-registry.ts) applies them to Node objects.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { pathText } from '../core/objects/explain.js';
import { checkObject } from '../core/objects/validate.js';
import type { StoreOp } from '../store/store.js';
import { invalid, validName } from './request-fields.js';
import { isAcceptablePassword, verifyPassword } from './security/credentials.js';
import { joinTokenKey, type JoinTokenRecord } from './security/tokens.js';

const MAX_LABELS = 100;

type Obj = Record<string, unknown>;

function body(v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('body', 'expected a JSON object');
  return v as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(k, 'unknown field');
}

/**
 * A map of label values (null removes one, where `allowNull`). Keys and values are checked by
 * the Node object's own schema (metadata.labels), the rule every label in the cluster follows.
 */
function labelMap(v: unknown, path: string, allowNull: boolean): Record<string, string | null> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(path, 'expected an object of label values');
  const entries = Object.entries(v as Obj);
  if (entries.length > MAX_LABELS) throw invalid(path, `more than ${MAX_LABELS} labels`);
  const out: Record<string, string | null> = {};
  const asLabels: Record<string, unknown> = {};
  for (const [k, value] of entries) {
    const val = value === null && allowNull ? null : value;
    // defineProperty: a "__proto__" key stays an ordinary key instead of changing the prototype.
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
    // A removal's key must still be a label key; "" is a valid label value.
    Object.defineProperty(asLabels, k, { value: val ?? '', enumerable: true, writable: true, configurable: true });
  }
  const checked = checkObject('Node', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'labels', labels: asLabels } }, { showValues: true });
  if (!checked.ok) {
    const [first] = checked.problems;
    throw invalid(pathText([path, ...first!.path.slice(2)]), first!.reason);
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
