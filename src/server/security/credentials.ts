/**
 * MQTT identities. Every node has its own username and a random password handed to it once at
 * join; the server keeps only its sha256 (GroveKeys.nodeCredential). The password is 256 bits
 * of randomness, so a slow KDF would add nothing: nobody can brute-force the preimage.
 *
 * Usernames are `node.<name>` for nodes and `grove-server` for the server. The separator is a
 * dot, not a colon, because Mosquitto's password file is `user:hash` and refuses a ':' in user
 * names; node names (DNS labels, see core/topics.ts) never contain a dot, so the mapping is
 * unambiguous in both directions.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { isValidName, validateName } from '../../core/topics.js';
import { GroveKeys } from '../../core/keys.js';
import type { Store } from '../../store/store.js';
import { ensureDir, readOptional, writeFileAtomic } from './files.js';

export const SERVER_USERNAME = 'grove-server';
export const NODE_USERNAME_PREFIX = 'node.';
const PASSWORD_BYTES = 32;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface NodeCredentials {
  username: string;
  password: string;
  /** sha256 hex of the password: what GroveKeys.nodeCredential stores. */
  hash: string;
}

export interface ServerCredentials {
  username: typeof SERVER_USERNAME;
  password: string;
}

export function nodeUsername(node: string): string {
  return NODE_USERNAME_PREFIX + validateName(node, 'node');
}

/** The node name of a node username, or undefined for anything else (the server, garbage). */
export function parseNodeUsername(username: string | undefined): string | undefined {
  if (username === undefined || !username.startsWith(NODE_USERNAME_PREFIX)) return undefined;
  const node = username.slice(NODE_USERNAME_PREFIX.length);
  return isValidName(node) ? node : undefined;
}

export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

export function hashPassword(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/** Constant-time check of a password against a stored sha256 hex; false for a malformed hash. */
export function verifyPassword(password: string, hash: string): boolean {
  if (!SHA256_HEX.test(hash)) return false;
  return timingSafeEqual(Buffer.from(hashPassword(password), 'hex'), Buffer.from(hash, 'hex'));
}

/**
 * A node's new login. `password` is the one the joining node proposed (join-client.ts: it
 * keeps it across retries, so a join whose answer was lost can be repeated and still prove
 * the name is its own); absent, the server draws one.
 */
export function issueNodeCredentials(node: string, password: string = generatePassword()): NodeCredentials {
  return { username: nodeUsername(node), password, hash: hashPassword(password) };
}

/** A proposed node password: base64url, at least 32 characters (192 bits), at most 256. */
export function isAcceptablePassword(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]{32,256}$/.test(v);
}

export function serverCredentialsPath(dataDir: string): string {
  return join(dataDir, 'server', 'mqtt-server.json');
}

/**
 * The server's own MQTT login, kept in `<dataDir>/server/mqtt-server.json` (0600). Created on
 * first use; a broker restarted with the same data dir accepts the same password, so an
 * external Mosquitto's password file stays valid.
 */
export async function ensureServerCredentials(dataDir: string, options: { logger: Logger }): Promise<ServerCredentials> {
  const log = options.logger.child({ component: 'credentials' });
  const path = serverCredentialsPath(dataDir);
  const text = await readOptional(path);
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new GroveError(ErrorCode.ConfigInvalid, `${path} is not valid JSON`, { cause: err, details: { file: path } });
    }
    const p = parsed as Partial<ServerCredentials> | null;
    if (p === null || typeof p !== 'object' || p.username !== SERVER_USERNAME || typeof p.password !== 'string' || p.password.length < 32) {
      throw new GroveError(ErrorCode.ConfigInvalid, `${path} does not hold the server's MQTT credentials`, { details: { file: path } });
    }
    return { username: SERVER_USERNAME, password: p.password };
  }
  const creds: ServerCredentials = { username: SERVER_USERNAME, password: generatePassword() };
  await ensureDir(join(dataDir, 'server'), 0o700);
  await writeFileAtomic(path, JSON.stringify(creds, null, 2) + '\n', 0o600);
  log.info({ file: path }, 'server MQTT credentials created');
  return creds;
}

/** Looks up a node's credential hash; the server passes a store-backed function. */
export type NodeLookup = (node: string) => Promise<{ credentialHash: string } | undefined>;

/** The credential a node joined with (GroveKeys.nodeCredential: deleted with the node). */
export function storeNodeLookup(store: Store): NodeLookup {
  return async (node) => (await store.get<{ credentialHash: string }>(GroveKeys.nodeCredential(node)))?.value;
}

/**
 * The broker's authenticate hook: the server's own login, or a node whose record exists and
 * whose credentialHash matches. A deleted node is refused at its next connect.
 */
export function createAuthenticator(server: ServerCredentials, lookup: NodeLookup): (username: string, password: string) => Promise<boolean> {
  const serverHash = hashPassword(server.password);
  return async (username, password) => {
    if (username === SERVER_USERNAME) return verifyPassword(password, serverHash);
    const node = parseNodeUsername(username);
    if (node === undefined) return false;
    const record = await lookup(node);
    return record !== undefined && verifyPassword(password, record.credentialHash);
  };
}
