/**
 * Join tokens: `grove1.<ca fingerprint | "insecure">.<id>.<secret>`.
 *
 * k3s-style by default: one token may join many nodes until it expires; `uses` limits it to N
 * joins (the count goes down in the same commit as the join, see spendJoinToken). The token
 * carries the CA fingerprint so a joining agent can pin the server's CA before sending anything
 * secret; the store holds only sha256(secret) under `tokens/<id>`, so a copy of the store
 * cannot join.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { GroveKeys } from '../../core/keys.js';
import type { Store } from '../../store/store.js';
import { quoteValue } from '../../core/quote.js';

export const JOIN_TOKEN_VERSION = 'grove1';
export const INSECURE_FINGERPRINT = 'insecure';
export const TOKEN_KEY_PREFIX = GroveKeys.tokenPrefix;
/** Ten years: a longer TTL is a typo, not a policy. */
export const MAX_TOKEN_TTL_SECONDS = 10 * 365 * 24 * 3600;
/** A fleet is joined by batches of boards; more uses than this is "unlimited" spelled wrong. */
export const MAX_TOKEN_USES = 100_000;

const ID_RE = /^[0-9a-f]{8}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

export interface JoinTokenRecord {
  id: string;
  /** sha256 hex of the secret; the secret itself is never stored. */
  secretHash: string;
  expiresAt: string;
  createdAt: string;
  /** Joins this token may still make; absent = any number until it expires. */
  usesLeft?: number;
}

/** What `grove token list` shows: never the secret or its hash. */
export interface JoinTokenView {
  id: string;
  createdAt: string;
  expiresAt: string;
  /** null: any number of joins until it expires. */
  usesLeft: number | null;
}

export interface ParsedJoinToken {
  /** undefined for an "insecure" token (server without TLS). */
  caFingerprint: string | undefined;
  id: string;
  secret: string;
}

export interface CreateJoinTokenOptions {
  ttlSeconds: number;
  caFingerprint: string | undefined;
  now: Date;
  /** How many joins the token allows; absent = any number until it expires. */
  uses?: number;
}

export interface CreatedJoinToken {
  token: string;
  id: string;
  expiresAt: string;
  usesLeft?: number;
}

/** Splits and checks the shape of a token; pure. Throws InvalidArgument when malformed. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.trim().split('.');
  const [version, fingerprint, id, secret] = parts;
  const ok =
    parts.length === 4 &&
    version === JOIN_TOKEN_VERSION &&
    fingerprint !== undefined &&
    (fingerprint === INSECURE_FINGERPRINT || HEX64_RE.test(fingerprint)) &&
    id !== undefined &&
    ID_RE.test(id) &&
    secret !== undefined &&
    SECRET_RE.test(secret);
  if (!ok) {
    // Never echo the token: it is a secret even when mistyped.
    throw new GroveError(ErrorCode.InvalidArgument, `malformed join token (expected ${JOIN_TOKEN_VERSION}.<ca fingerprint>.<id>.<secret>)`);
  }
  return { caFingerprint: fingerprint === INSECURE_FINGERPRINT ? undefined : fingerprint, id: id!, secret: secret! };
}

export function formatJoinToken(parsed: ParsedJoinToken): string {
  return [JOIN_TOKEN_VERSION, parsed.caFingerprint ?? INSECURE_FINGERPRINT, parsed.id, parsed.secret].join('.');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export async function createJoinToken(store: Store, options: CreateJoinTokenOptions): Promise<CreatedJoinToken> {
  const { ttlSeconds, caFingerprint, now } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new GroveError(ErrorCode.InvalidArgument, `join token TTL must be 1..${MAX_TOKEN_TTL_SECONDS} seconds, got ${ttlSeconds}`);
  }
  if (caFingerprint !== undefined && !HEX64_RE.test(caFingerprint)) {
    throw new GroveError(ErrorCode.InvalidArgument, 'CA fingerprint must be 64 lowercase hex digits');
  }
  const { uses } = options;
  if (uses !== undefined && (!Number.isInteger(uses) || uses < 1 || uses > MAX_TOKEN_USES)) {
    throw new GroveError(ErrorCode.InvalidArgument, `join token uses must be 1..${MAX_TOKEN_USES}, got ${uses}`);
  }
  let id: string;
  // 32-bit ids collide rarely, but an overwrite would silently revoke another token.
  do {
    id = randomBytes(4).toString('hex');
  } while ((await store.get(GroveKeys.token(id))) !== undefined);
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  const record: JoinTokenRecord = { id, secretHash: sha256Hex(secret), expiresAt, createdAt: now.toISOString(), ...(uses !== undefined ? { usesLeft: uses } : {}) };
  await store.commit([{ type: 'put', key: GroveKeys.token(id), value: record }]);
  return { token: formatJoinToken({ caFingerprint, id, secret }), id, expiresAt, ...(uses !== undefined ? { usesLeft: uses } : {}) };
}

function notRecognised(): GroveError {
  return new GroveError(ErrorCode.PermissionDenied, 'join token not recognised');
}

/**
 * Returns the token id when `token` is valid at `now`. The secret is checked before expiry so
 * that "expired" is only ever told to someone who holds the real secret.
 */
export async function verifyJoinToken(store: Store, token: string, now: Date): Promise<string> {
  return (await authenticateJoinToken(store, token, now)).id;
}

/**
 * The token's record when `token` is valid at `now` and has a use left. `pending` holds
 * records already spent earlier in the same batch of joins (not committed yet): they are what
 * counts, not the stored ones.
 */
export async function authenticateJoinToken(store: Store, token: string, now: Date, pending?: ReadonlyMap<string, JoinTokenRecord>): Promise<JoinTokenRecord> {
  let parsed: ParsedJoinToken;
  try {
    parsed = parseJoinToken(token);
  } catch {
    throw notRecognised();
  }
  const record = pending?.get(parsed.id) ?? (await store.get<JoinTokenRecord>(GroveKeys.token(parsed.id)))?.value;
  if (record === undefined || typeof record.secretHash !== 'string' || !HEX64_RE.test(record.secretHash)) {
    throw notRecognised();
  }
  const presented = Buffer.from(sha256Hex(parsed.secret), 'hex');
  if (!timingSafeEqual(presented, Buffer.from(record.secretHash, 'hex'))) throw notRecognised();
  const expires = Date.parse(record.expiresAt);
  if (!Number.isFinite(expires) || now.getTime() >= expires) {
    throw new GroveError(ErrorCode.PermissionDenied, 'join token expired', { details: { tokenId: parsed.id, expiresAt: record.expiresAt } });
  }
  if (record.usesLeft !== undefined && !(record.usesLeft > 0)) {
    throw new GroveError(ErrorCode.PermissionDenied, 'join token used up', { details: { tokenId: parsed.id } });
  }
  return record;
}

/**
 * PURE: the token record after one more join, or undefined for a token without a use limit
 * (nothing to write). The caller commits it together with the join it paid for, so a crash
 * can never leave a join without its use counted, or a use counted without its join.
 */
export function spendJoinToken(record: JoinTokenRecord): JoinTokenRecord | undefined {
  if (record.usesLeft === undefined) return undefined;
  return { ...record, usesLeft: Math.max(0, record.usesLeft - 1) };
}

export function joinTokenKey(id: string): string {
  return GroveKeys.token(id);
}

export function joinTokenView(record: JoinTokenRecord): JoinTokenView {
  return { id: record.id, createdAt: record.createdAt, expiresAt: record.expiresAt, usesLeft: record.usesLeft ?? null };
}

/** Every stored token record (secret hashes included: callers show joinTokenView only). */
export async function listJoinTokens(store: Store): Promise<JoinTokenRecord[]> {
  return (await store.list<JoinTokenRecord>(TOKEN_KEY_PREFIX)).map((e) => e.value);
}

/** Revokes a token before its expiry; true when it existed. */
export async function revokeJoinToken(store: Store, id: string): Promise<boolean> {
  if (!ID_RE.test(id)) throw new GroveError(ErrorCode.InvalidArgument, `invalid join token id ${quoteValue(id)}`);
  const existed = (await store.get(GroveKeys.token(id))) !== undefined;
  if (existed) await store.commit([{ type: 'delete', key: GroveKeys.token(id) }]);
  return existed;
}

/** Deletes expired token records (housekeeping; expired tokens are refused either way). */
export async function pruneExpiredTokens(store: Store, now: Date): Promise<number> {
  const expired = (await listJoinTokens(store)).filter((t) => !(Date.parse(t.expiresAt) > now.getTime()));
  if (expired.length > 0) await store.commit(expired.map((t) => ({ type: 'delete' as const, key: GroveKeys.token(t.id) })));
  return expired.length;
}
