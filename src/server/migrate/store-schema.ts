/**
 * The store layout's version (`grove/meta/schema`), the check every server start makes and the
 * marking of a new store: apart from the migration (migrate-legacy.ts), which a current or new
 * store never needs and a server that imported it would keep in memory.
 */
import { GroveKeys } from '../../core/keys.js';
import type { Store, StoreOp } from '../../store/store.js';

/** The store layout this version writes; `grove/meta/schema` absent = 0.1. */
export const STORE_SCHEMA_VERSION = 2;

/** What grove/meta/schema holds. */
export interface SchemaRecord {
  version: number;
  /** Set when the store was migrated: from which layout, and when. */
  migratedFrom?: string;
  migratedAt?: string;
}

/** The schema version a `grove/meta/schema` value names (a bare number is read too). */
export function schemaVersionOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const v = (value as Partial<SchemaRecord> | null)?.version;
  return typeof value === 'object' && typeof v === 'number' ? v : undefined;
}

/** Whether `raw` already has this version's layout (then nothing is read or written to upgrade it). */
export async function storeIsCurrent(raw: Store): Promise<boolean> {
  const schema = await raw.get(GroveKeys.schemaVersion);
  return schema !== undefined && schemaVersionOf(schema.value) === STORE_SCHEMA_VERSION;
}

/** What a store without anything gets: the record of this version's layout. */
export function freshStoreOps(): StoreOp[] {
  const record: SchemaRecord = { version: STORE_SCHEMA_VERSION };
  return [{ type: 'put', key: GroveKeys.schemaVersion, value: record }];
}

/** Marks `raw` with this version's layout when it holds nothing at all; whether it did. */
export async function markIfFresh(raw: Store): Promise<boolean> {
  if ((await raw.list('')).length > 0) return false;
  await raw.commit(freshStoreOps());
  return true;
}
