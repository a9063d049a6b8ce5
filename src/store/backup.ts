/**
 * The backup file format (`grove server backup` / `restore`): one CBOR map
 *
 *   { format: 'grove-backup', formatVersion: 1, cluster, revision, createdAt, entryCount,
 *     sha256: hex of body, body: bytes }
 *
 * where body is the CBOR array of [key, revision, value] for every store entry, from one
 * consistent store snapshot. The checksum covers the body, so a truncated or damaged file is
 * refused before anything is restored; values keep their CBOR types exactly as stored.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import { GroveKeys } from '../core/keys.js';
import { createWireDecoder, createWireEncoder } from '../core/wire.js';
import { validateKey } from './memory-store.js';
import type { StoreEntry, StoreSnapshot } from './store.js';

export const BACKUP_FORMAT = 'grove-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** Far above any edge cluster's store (a few MB), low enough to read into memory on a Pi. */
export const MAX_BACKUP_BYTES = 256 * 1024 * 1024;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  cluster: string;
  /** The store revision the snapshot was taken at. */
  revision: number;
  createdAt: string;
  entryCount: number;
  sha256: string;
  /**
   * The store layout's version (its `grove/meta/schema` record) when the store had one; absent
   * in backups taken by Grove 0.1, whose layout a restore upgrades (src/server/migrate).
   */
  storeSchema?: number;
}

export interface Backup {
  header: BackupHeader;
  entries: StoreEntry[];
}

function invalidBackup(message: string, cause?: unknown): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `not a valid Grove backup: ${message}`, cause === undefined ? {} : { cause });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodeBackup(snapshot: StoreSnapshot, meta: { cluster: string; createdAt: Date }): Buffer {
  const encoder = createWireEncoder();
  const body = encoder.encode(snapshot.entries.map((e) => [e.key, e.revision, e.value]));
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    cluster: meta.cluster,
    revision: snapshot.revision,
    createdAt: meta.createdAt.toISOString(),
    entryCount: snapshot.entries.length,
    sha256: sha256(body),
  };
  const schema = snapshot.entries.find((e) => e.key === GroveKeys.schemaVersion)?.value as { version?: unknown } | undefined;
  if (typeof schema?.version === 'number') header.storeSchema = schema.version;
  return encoder.encode({ ...header, body });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function readHeader(outer: Record<string, unknown>): BackupHeader {
  if (outer.format !== BACKUP_FORMAT) throw invalidBackup(`format is ${JSON.stringify(outer.format)}, expected "${BACKUP_FORMAT}"`);
  if (outer.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw invalidBackup(`format version ${String(outer.formatVersion)} is not supported (this Grove reads version ${BACKUP_FORMAT_VERSION})`);
  }
  const count = (k: string): number => {
    const v = outer[k];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw invalidBackup(`${k} is not a whole number`);
    return v as number;
  };
  const text = (k: string, re: RegExp): string => {
    const v = outer[k];
    if (typeof v !== 'string' || !re.test(v)) throw invalidBackup(`${k} is missing or malformed`);
    return v;
  };
  return {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    cluster: text('cluster', /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
    revision: count('revision'),
    createdAt: text('createdAt', /^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
    entryCount: count('entryCount'),
    sha256: text('sha256', /^[0-9a-f]{64}$/),
    ...(outer.storeSchema === undefined ? {} : { storeSchema: count('storeSchema') }),
  };
}

function readEntry(item: unknown, i: number, revision: number): StoreEntry {
  if (!Array.isArray(item) || item.length !== 3) throw invalidBackup(`entry ${i} is not [key, revision, value]`);
  const [key, entryRevision, value] = item as [unknown, unknown, unknown];
  try {
    validateKey(key);
  } catch (err) {
    throw invalidBackup(`entry ${i}: ${errorMessage(err)}`);
  }
  if (!Number.isSafeInteger(entryRevision) || (entryRevision as number) < 1 || (entryRevision as number) > revision) {
    throw invalidBackup(`entry ${key as string} has revision ${String(entryRevision)}, outside 1..${revision}`);
  }
  if (value === undefined) throw invalidBackup(`entry ${key as string} has no value`);
  return { key: key as string, revision: entryRevision as number, value };
}

/** Decodes and fully checks a backup file (size, format, version, checksum, every entry). */
export function decodeBackup(bytes: Uint8Array): Backup {
  if (bytes.length > MAX_BACKUP_BYTES) throw new GroveError(ErrorCode.SizeLimit, `backup is larger than ${MAX_BACKUP_BYTES} bytes`);
  const decoder = createWireDecoder();
  let outer: unknown;
  try {
    outer = decoder.decode(bytes);
  } catch (err) {
    throw invalidBackup(`cannot decode (${errorMessage(err)})`, err);
  }
  if (!isRecord(outer)) throw invalidBackup('not a CBOR map');
  const header = readHeader(outer);
  const body = outer.body;
  if (!(body instanceof Uint8Array)) throw invalidBackup('body is missing');
  if (sha256(body) !== header.sha256) throw invalidBackup('checksum mismatch: the file is damaged or incomplete');
  let items: unknown;
  try {
    items = decoder.decode(body);
  } catch (err) {
    throw invalidBackup(`cannot decode the entries (${errorMessage(err)})`, err);
  }
  if (!Array.isArray(items) || items.length !== header.entryCount) throw invalidBackup(`expected ${header.entryCount} entries`);
  const entries = items.map((item, i) => readEntry(item, i, header.revision));
  const keys = new Set(entries.map((e) => e.key));
  if (keys.size !== entries.length) throw invalidBackup('duplicate keys');
  return { header, entries };
}
