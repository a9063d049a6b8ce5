/**
 * Named API users (`grove user create NAME --role admin|edit|view`), kept under
 * `grove/users/<name>` (src/core/keys.ts) as join tokens are kept: the store holds sha256 of each
 * token's secret, never the secret, so a copy of the store (a backup) cannot act as anyone.
 *
 * A user token is `groveu1.<name>.<secret>`: the name finds the one record to check (one store
 * read per request, no cache to go stale: deleting the user refuses its next request). A user
 * holds a few tokens (one per kubeconfig handed out) and the serials of the client certificates
 * the cluster CA issued for it (client-certs.ts): a certificate counts only while its serial is
 * recorded here, so deleting the user revokes its certificates too.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { GroveKeys } from '../../core/keys.js';
import type { Store } from '../../store/store.js';
import { validName } from '../request-fields.js';
import { sha256Hex } from '../security/tokens.js';
import { isRole, type Role } from './roles.js';

export const USER_TOKEN_VERSION = 'groveu1';
/** Credentials one user may hold at once: enough for a few kubeconfigs, small enough to check on every request. */
export const MAX_USER_TOKENS = 16;
export const MAX_USER_CERTIFICATES = 16;

const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

export interface UserRecord {
  name: string;
  role: Role;
  createdAt: string;
  /** sha256 hex of each token's secret. */
  tokens: { hash: string; createdAt: string }[];
  /** Client certificates issued for this user: serial (lowercase hex) and expiry. */
  certificates: { serial: string; expiresAt: string }[];
}

/** What `grove user list` shows: never a hash. */
export interface UserView {
  name: string;
  role: Role;
  createdAt: string;
  tokens: number;
  certificates: number;
}

export function userView(record: UserRecord): UserView {
  return { name: record.name, role: record.role, createdAt: record.createdAt, tokens: record.tokens.length, certificates: record.certificates.length };
}

function newSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: sha256Hex(secret) };
}

export function validUserName(name: unknown): string {
  return validName(name, 'user name');
}

export function validRole(role: unknown): Role {
  if (!isRole(role)) throw new GroveError(ErrorCode.InvalidArgument, `role: expected admin, edit or view, got ${JSON.stringify(role)}`, { details: { field: 'role' } });
  return role;
}

/** A record read back from the store, or undefined when it is not one (a hand-edited store must not crash a request). */
function asUserRecord(value: unknown): UserRecord | undefined {
  const v = value as Partial<UserRecord> | undefined;
  if (!v || typeof v.name !== 'string' || !isRole(v.role) || !Array.isArray(v.tokens) || !Array.isArray(v.certificates)) return undefined;
  return v as UserRecord;
}

export async function getUser(store: Store, name: string): Promise<UserRecord | undefined> {
  return asUserRecord((await store.get(GroveKeys.user(name)))?.value);
}

function notFound(name: string): GroveError {
  return new GroveError(ErrorCode.NotFound, `user ${JSON.stringify(name)} not found`, { details: { name } });
}

async function requireUser(store: Store, name: string): Promise<UserRecord> {
  const user = await getUser(store, validUserName(name));
  if (!user) throw notFound(name);
  return user;
}

/** Creates a user with its first token; run under the server's mutex. Returns the token (shown once). */
export async function createUser(store: Store, name: string, role: Role, now: Date): Promise<{ user: UserView; token: string }> {
  validUserName(name);
  if (await getUser(store, name)) {
    throw new GroveError(ErrorCode.Conflict, `user ${JSON.stringify(name)} already exists (grove user delete ${name} first)`, { details: { name, reason: 'AlreadyExists' } });
  }
  const { secret, hash } = newSecret();
  const record: UserRecord = { name, role, createdAt: now.toISOString(), tokens: [{ hash, createdAt: now.toISOString() }], certificates: [] };
  await store.commit([{ type: 'put', key: GroveKeys.user(name), value: record }]);
  return { user: userView(record), token: `${USER_TOKEN_VERSION}.${name}.${secret}` };
}

/** Adds a token to an existing user (a second kubeconfig); run under the mutex. */
export async function addUserToken(store: Store, name: string, now: Date): Promise<{ token: string }> {
  const user = await requireUser(store, name);
  if (user.tokens.length >= MAX_USER_TOKENS) {
    throw new GroveError(ErrorCode.Conflict, `user ${JSON.stringify(name)} already has ${MAX_USER_TOKENS} tokens: delete the user and create it again to start afresh`);
  }
  const { secret, hash } = newSecret();
  await store.commit([{ type: 'put', key: GroveKeys.user(name), value: { ...user, tokens: [...user.tokens, { hash, createdAt: now.toISOString() }] } }]);
  return { token: `${USER_TOKEN_VERSION}.${name}.${secret}` };
}

/** Records a certificate the CA issued for the user (expired ones are dropped in the same write); run under the mutex. */
export async function recordUserCertificate(store: Store, name: string, cert: { serial: string; expiresAt: string }, now: Date): Promise<void> {
  const user = await requireUser(store, name);
  const live = user.certificates.filter((c) => Date.parse(c.expiresAt) > now.getTime());
  if (live.length >= MAX_USER_CERTIFICATES) {
    throw new GroveError(ErrorCode.Conflict, `user ${JSON.stringify(name)} already has ${MAX_USER_CERTIFICATES} client certificates: delete the user and create it again to start afresh`);
  }
  await store.commit([{ type: 'put', key: GroveKeys.user(name), value: { ...user, certificates: [...live, { serial: cert.serial.toLowerCase(), expiresAt: cert.expiresAt }] } }]);
}

/** Every user, by name. */
export async function listUsers(store: Store): Promise<UserView[]> {
  const records = (await store.list(GroveKeys.userPrefix)).map((e) => asUserRecord(e.value)).filter((r): r is UserRecord => r !== undefined);
  return records.map(userView).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Deletes a user: its tokens and certificates stop working with its next request. */
export async function deleteUser(store: Store, name: string): Promise<{ name: string; deleted: true }> {
  await requireUser(store, name);
  await store.commit([{ type: 'delete', key: GroveKeys.user(name) }]);
  return { name, deleted: true };
}

/** Whether `token` looks like a user token (the authenticator then owns the answer). */
export function isUserToken(token: string): boolean {
  return token.startsWith(`${USER_TOKEN_VERSION}.`);
}

/** The user a presented token belongs to, or undefined: wrong, malformed, or of a deleted user. */
export async function userForToken(store: Store, token: string): Promise<UserRecord | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== USER_TOKEN_VERSION || !SECRET_RE.test(parts[2]!)) return undefined;
  let user: UserRecord | undefined;
  try {
    user = await getUser(store, parts[1]!);
  } catch {
    return undefined; // a name no key can hold
  }
  if (!user || user.name !== parts[1]) return undefined;
  const presented = Buffer.from(sha256Hex(parts[2]!), 'hex');
  // Every hash is compared (no early exit), each in constant time.
  let match = false;
  for (const t of user.tokens) if (HEX64_RE.test(t.hash) && timingSafeEqual(presented, Buffer.from(t.hash, 'hex'))) match = true;
  return match ? user : undefined;
}

/** The user a verified client certificate (CN, serial) belongs to, or undefined when its serial is not recorded. */
export async function userForCertificate(store: Store, commonName: string, serial: string): Promise<UserRecord | undefined> {
  let user: UserRecord | undefined;
  try {
    user = await getUser(store, commonName);
  } catch {
    return undefined;
  }
  const wanted = serial.toLowerCase().replace(/^0+/, '');
  return user?.certificates.some((c) => c.serial.replace(/^0+/, '') === wanted) ? user : undefined;
}
