/**
 * Quarantine of corrupt store entries: the raw bytes move under QUARANTINE_PREFIX (below every
 * printable key, like the revision record, so lists, snapshots and backups never see them) and
 * the name becomes usable again. Nothing is thrown away: `grove server fsck` lists what was
 * moved, with why and when, and the bytes stay for whoever wants to examine them.
 */
import type { Decoder, Encoder } from 'cbor-x';
import type { Logger } from '../core/logger.js';
import type { StoreEntry, StoreOp } from './store.js';

export const QUARANTINE_PREFIX = '\x00quarantine/';

/** Why an entry is corrupt, or undefined when it is fine (a checker for the values of some prefix). */
export type EntryCheck = (entry: StoreEntry) => string | undefined;

export interface EntryProblem {
  key: string;
  reason: string;
}

export interface QuarantinedEntry {
  key: string;
  reason: string;
  /** When it was quarantined (ISO). */
  at: string;
  /** The store revision of the commit that quarantined it. */
  revision: number;
  /** The entry's bytes as they were found. */
  raw: Uint8Array;
}

/** A store that can find its corrupt entries and set them aside (LevelStore). */
export interface Auditable {
  audit(check?: EntryCheck): Promise<EntryProblem[]>;
  quarantine(problems: EntryProblem[]): Promise<number>;
  listQuarantined(): Promise<QuarantinedEntry[]>;
}

/** One record per key and quarantining revision: a name corrupt twice keeps both. */
export function quarantineKey(key: string, revision: number): string {
  return `${QUARANTINE_PREFIX}${key}@${revision}`;
}

/** The LevelDB ops that set found entries aside (entries gone meanwhile are skipped), and the store's view of them. */
export function quarantineBatch(
  problems: readonly EntryProblem[],
  raws: readonly (Uint8Array | undefined)[],
  revision: number,
  now: Date,
  encoder: Encoder,
): { batch: ({ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string })[]; ops: StoreOp[] } {
  const batch: ({ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string })[] = [];
  const ops: StoreOp[] = [];
  problems.forEach((p, i) => {
    const raw = raws[i];
    if (raw === undefined) return;
    const record = encodeQuarantined({ key: p.key, reason: p.reason, at: now.toISOString(), revision, raw }, encoder);
    batch.push({ type: 'put', key: quarantineKey(p.key, revision), value: record }, { type: 'del', key: p.key });
    ops.push({ type: 'delete', key: p.key });
  });
  return { batch, ops };
}

export function encodeQuarantined(entry: QuarantinedEntry, encoder: Encoder): Uint8Array {
  return encoder.encode({ key: entry.key, reason: entry.reason, at: entry.at, revision: entry.revision, raw: entry.raw });
}

/** A record that is itself unreadable is still listed, under its LevelDB key. */
export function decodeQuarantined(levelKey: string, bytes: Uint8Array, decoder: Decoder): QuarantinedEntry {
  try {
    const o = decoder.decode(bytes) as Partial<QuarantinedEntry> | null;
    if (o && typeof o.key === 'string' && typeof o.reason === 'string' && typeof o.at === 'string' && Number.isSafeInteger(o.revision) && o.raw instanceof Uint8Array) {
      return { key: o.key, reason: o.reason, at: o.at, revision: o.revision!, raw: o.raw };
    }
  } catch {
    // Falls through to the raw listing below.
  }
  return { key: levelKey.slice(QUARANTINE_PREFIX.length), reason: 'unreadable quarantine record', at: '', revision: 0, raw: bytes };
}

/**
 * What a daemon does at start: corrupt entries are quarantined and reported, one error line
 * each, instead of stopping it (or making a name unusable) at the first read. Returns them.
 * `refuse` may throw first, for an entry whose loss needs the operator (nothing is moved then).
 */
export async function quarantineCorrupt(
  store: Auditable,
  check: EntryCheck | undefined,
  log: Logger,
  listCommand: string,
  refuse?: (problems: EntryProblem[]) => void,
): Promise<EntryProblem[]> {
  const problems = await store.audit(check);
  if (problems.length === 0) return problems;
  refuse?.(problems);
  const revision = await store.quarantine(problems);
  for (const p of problems) log.error({ key: p.key, reason: p.reason, revision }, `corrupt store entry ${p.key} quarantined: ${p.reason}`);
  log.error({ count: problems.length }, `${problems.length} corrupt store entr${problems.length === 1 ? 'y' : 'ies'} quarantined; \`${listCommand}\` lists them`);
  return problems;
}
