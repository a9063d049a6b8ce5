/**
 * `grove server fsck` and `grove agent fsck` (docs/operations.md): offline checks of a daemon's
 * store. They report missing commits (a damaged or truncated LevelDB log: the daemon refuses
 * to start on those) and, with --accept-loss, let the store open anyway with its revision moved
 * past the highest one known; they list corrupt entries and quarantine them (--dry-run lists
 * only), and list what was quarantined before (by them or by a daemon at start).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { LevelStore } from '../../store/level-store.js';
import { quarantineCorrupt, type EntryCheck, type EntryProblem, type QuarantinedEntry } from '../../store/quarantine.js';
import type { CliContext } from '../context.js';
import { writeLine } from '../io.js';

export interface StoreRole {
  /** "server" or "agent": the daemon that owns the store. */
  role: 'server' | 'agent';
  path: string;
  /** The role's entry checker (the server's needs its secrets key). */
  check: () => Promise<EntryCheck>;
}

export function acceptLossCommand(role: StoreRole['role']): string {
  return `grove ${role} fsck --accept-loss`;
}

export function listCommand(role: StoreRole['role']): string {
  return `grove ${role} fsck --dry-run`;
}

/** The daemon's LevelStore, refusing to open with commits missing unless `acceptLoss`. */
export function roleStore(role: StoreRole['role'], path: string, logger: Logger, acceptLoss = false): LevelStore {
  return new LevelStore({ path, logger, acceptLossCommand: acceptLossCommand(role), acceptLoss });
}

export function serverStorePath(dataDir: string): string {
  return join(dataDir, 'server', 'db');
}

export function agentStorePath(dataDir: string): string {
  return join(dataDir, 'agent', 'db');
}

/**
 * Opens a daemon's store at start: refuses on missing commits, then quarantines corrupt
 * entries (one error line each) instead of failing on them later. `refuse` may throw instead,
 * for an entry whose loss needs the operator.
 */
export async function openRoleStore(r: StoreRole, logger: Logger, refuse?: (problems: EntryProblem[]) => void): Promise<{ store: LevelStore; quarantined: string[] }> {
  const store = roleStore(r.role, r.path, logger);
  await store.open();
  try {
    const problems = await quarantineCorrupt(store, await r.check(), logger.child({ component: 'store-check' }), listCommand(r.role), refuse);
    return { store, quarantined: problems.map((p) => p.key) };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

function describeQuarantined(q: QuarantinedEntry): string {
  return `${q.key}: ${q.reason} (quarantined at revision ${q.revision}${q.at ? `, ${q.at}` : ''}, ${q.raw.length} bytes kept)`;
}

export async function runFsck(ctx: CliContext, r: StoreRole, options: { readonly dryRun: boolean; readonly acceptLoss: boolean }): Promise<number> {
  const { dryRun, acceptLoss } = options;
  if (dryRun && acceptLoss) throw new GroveError(ErrorCode.InvalidArgument, '--accept-loss changes the store: it cannot go with --dry-run');
  const out = ctx.io.stdout;
  // Opening would create an empty store: there is nothing to check instead.
  if (!(await stat(r.path).then((s) => s.isDirectory(), () => false))) {
    throw new GroveError(ErrorCode.NotFound, `no ${r.role} store at ${r.path}: nothing to check (wrong --data-dir?)`);
  }
  const store = roleStore(r.role, r.path, ctx.logger, acceptLoss);
  try {
    await store.open();
  } catch (err) {
    if (isGroveError(err) && err.details.locked === true) {
      throw new GroveError(ErrorCode.Conflict, `the ${r.role}'s store at ${r.path} is in use: stop grove ${r.role} first`, { cause: err });
    }
    if (isGroveError(err) && err.details.loss === true) {
      writeLine(out, `LOSS: ${err.message}`);
      return 1;
    }
    throw err;
  }
  try {
    const accepted = store.acceptedLoss;
    if (accepted) {
      for (const l of accepted.losses) writeLine(out, `loss accepted: ${l.summary}`);
      writeLine(out, `store revision moved to ${accepted.revision}${accepted.keptLogs ? `; the damaged logs were copied to ${accepted.keptLogs}` : ''}`);
    }
    const check = await r.check();
    const problems = await store.audit(check);
    for (const p of problems) writeLine(out, `corrupt: ${p.key}: ${p.reason}`);
    const earlier = await store.listQuarantined();
    if (problems.length > 0 && !dryRun) {
      const revision = await store.quarantine(problems);
      writeLine(out, `${problems.length} corrupt entr${problems.length === 1 ? 'y' : 'ies'} quarantined at revision ${revision}: the names can be used again`);
    }
    for (const q of earlier) writeLine(out, `quarantined earlier: ${describeQuarantined(q)}`);
    const entries = await store.countEntries();
    const verdict = problems.length === 0 ? 'no corrupt entries' : dryRun ? `${problems.length} corrupt (dry run: nothing changed)` : `${problems.length} quarantined now`;
    writeLine(out, `store at ${r.path}: revision ${store.revision()}, ${entries} entries, ${verdict}, ${earlier.length} quarantined before`);
    return dryRun && problems.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
