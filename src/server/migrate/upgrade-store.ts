/**
 * Upgrading a server store in place (docs/operations.md "Upgrading from 0.1"): at start, a
 * store without `grove/meta/schema` that holds 0.1 records is migrated to the object layout in
 * ONE commit (a crash before it leaves the 0.1 data as it was; after it, the new layout is
 * complete); a store without anything is marked as the current layout; a current store is not
 * written at all. `grove server restore` runs the same plan over a 0.1 backup's entries.
 *
 * Sealed records (Secrets, node keys) are opened with the server's secrets key and sealed again
 * under their new keys: a seal is bound to the key it is stored under, so it cannot move as it is.
 */
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { GroveKeys, LEGACY_KEYS, SEALED_KEY_PREFIXES } from '../../core/keys.js';
import type { Logger } from '../../core/logger.js';
import { isSealed } from '../../core/seal.js';
import type { Store, StoreOp } from '../../store/store.js';
import { openSealedValue, sealStoreValue } from '../sealed-store.js';
import { migrateLegacy, STORE_SCHEMA_VERSION, type LegacyEntry, type MigrationContext, type MigrationProblem } from './migrate-legacy.js';
import { freshStoreOps, schemaVersionOf, storeIsCurrent } from './store-schema.js';

/** 0.1 keys whose values were sealed at rest. */
const LEGACY_SEALED = [LEGACY_KEYS.secretPrefix, LEGACY_KEYS.nodeKeyPrefix];

/** How many problems the refusal names (the rest are counted). */
const SHOWN_PROBLEMS = 10;

export { schemaVersionOf };

export type UpgradePlan =
  | { state: 'current' }
  | { state: 'fresh'; ops: StoreOp[] }
  | { state: 'migrated'; ops: StoreOp[]; counts: Record<string, number>; dropped: MigrationProblem[] };

/**
 * What upgrading `entries` (a whole raw store: sealed values sealed) takes. Throws
 * UpgradeRefused when the store is from a newer Grove, a sealed record does not open with
 * `secretKey`, or the migration finds problems; nothing is written then.
 */
export function planUpgrade(entries: readonly LegacyEntry[], secretKey: Buffer | undefined, ctx: MigrationContext): UpgradePlan {
  const schema = entries.find((e) => e.key === GroveKeys.schemaVersion);
  if (schema) {
    const version = schemaVersionOf(schema.value);
    if (version === STORE_SCHEMA_VERSION) return { state: 'current' };
    throw new GroveError(ErrorCode.UpgradeRefused, `the store's layout is version ${String(version)}, this Grove reads version ${STORE_SCHEMA_VERSION}: use the Grove that wrote it`, {
      details: { version },
    });
  }
  if (entries.length === 0) return { state: 'fresh', ops: freshStoreOps() };

  const opened = entries.map((e) => ({ key: e.key, value: openLegacy(e, secretKey) }));
  const plan = migrateLegacy(opened, ctx);
  if (plan.problems.length > 0) {
    const shown = plan.problems.slice(0, SHOWN_PROBLEMS).map((p) => `${p.key}: ${p.message}`);
    const more = plan.problems.length > SHOWN_PROBLEMS ? `; and ${plan.problems.length - SHOWN_PROBLEMS} more` : '';
    throw new GroveError(ErrorCode.UpgradeRefused, `cannot upgrade the Grove 0.1 store (${plan.problems.length} problem(s); nothing was changed): ${shown.join('; ')}${more}`, {
      details: { problems: plan.problems },
    });
  }
  const ops: StoreOp[] = [
    ...plan.puts.map((p): StoreOp => ({ type: 'put', key: p.key, value: sealedFor(p.key, p.value, secretKey) })),
    ...plan.deletes.map((key): StoreOp => ({ type: 'delete', key })),
  ];
  return { state: 'migrated', ops, counts: plan.counts, dropped: plan.dropped };
}

function openLegacy(e: LegacyEntry, secretKey: Buffer | undefined): unknown {
  if (!LEGACY_SEALED.some((p) => e.key.startsWith(p)) || !isSealed(e.value)) return e.value;
  if (!secretKey) throw new GroveError(ErrorCode.UpgradeRefused, `${e.key} is sealed but there is no secrets key (restore the data dir's server/secrets.key)`);
  try {
    return openSealedValue(secretKey, e.key, e.value);
  } catch (err) {
    throw new GroveError(ErrorCode.UpgradeRefused, `${e.key} does not open with the secrets key in use (${errorMessage(err)}): restore the matching server/secrets.key; nothing was changed`, {
      cause: err,
    });
  }
}

function sealedFor(key: string, value: unknown, secretKey: Buffer | undefined): unknown {
  if (!SEALED_KEY_PREFIXES.some((p) => key.startsWith(p))) return value;
  // A 0.1 store with plaintext secrets and no key yet: the server seals them at start as before.
  return secretKey ? sealStoreValue(secretKey, key, value) : value;
}

/** "8 workloads, 12 pods, 2 nodes, …": the counts of the one log line. */
export function describeCounts(counts: Readonly<Record<string, number>>): string {
  const workloads = ['deployments', 'daemonsets', 'jobs', 'cronjobs'].reduce((n, k) => n + (counts[k] ?? 0), 0);
  const parts = [`${workloads} workloads`];
  for (const k of ['replicasets', 'controllerrevisions', 'pods', 'nodes', 'configmaps', 'secrets', 'tokens']) if (counts[k]) parts.push(`${counts[k]} ${k}`);
  return parts.join(', ');
}

export interface UpgradeOptions {
  secretKey: Buffer | undefined;
  context: MigrationContext;
  log: Logger;
}

/**
 * The start hook: upgrades `raw` (the store below the sealing wrapper) when it needs it, in one
 * commit, and says so in one log line. Returns what it did.
 */
export async function upgradeStoreAtStart(raw: Store, opts: UpgradeOptions): Promise<UpgradePlan['state']> {
  if (await storeIsCurrent(raw)) return 'current';
  const { entries } = await raw.snapshot();
  const plan = planUpgrade(entries, opts.secretKey, opts.context);
  if (plan.state === 'current') return plan.state;
  await raw.commit(plan.ops);
  if (plan.state === 'migrated') {
    opts.log.info(
      { counts: plan.counts, dropped: plan.dropped.length, ...(plan.dropped.length > 0 ? { droppedKeys: plan.dropped.map((d) => `${d.key} (${d.message})`) } : {}) },
      `store upgraded from Grove 0.1 in one commit: ${describeCounts(plan.counts)}${plan.dropped.length > 0 ? `; ${plan.dropped.length} records of removed apps or Job history not carried over` : ''}`,
    );
  }
  return plan.state;
}
