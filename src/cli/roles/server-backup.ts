/**
 * `grove server backup FILE` and `grove server restore FILE` (docs/operations.md).
 *
 * Backup goes through the running server (GET /v1/backup): the server holds the LevelDB lock,
 * and only it can read one consistent snapshot while it keeps committing. Restore works on a
 * stopped server's data dir: LevelDB's lock refuses it while the server runs.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../../core/errors.js';
import { MAX_BACKUP_BYTES, decodeBackup, type Backup } from '../../store/backup.js';
import { writeFileAtomic } from '../../store/durable-file.js';
import type { LevelStore } from '../../store/level-store.js';
import type { StoreEntry } from '../../store/store.js';
import { GroveKeys, LEGACY_KEYS } from '../../core/keys.js';
import { planUpgrade } from '../../server/migrate/upgrade-store.js';
import { loadSecretKey, secretKeyPath } from '../../server/security/secret-key.js';
import { openClient } from '../client/open-client.js';
import type { CliContext } from '../context.js';
import { writeLine } from '../io.js';
import { storedClusterName } from './server-setup.js';
import { roleStore, serverStorePath } from './store-fsck.js';

function describeBackup(b: Backup): string {
  const layout = b.header.storeSchema === undefined ? '' : `, store layout ${b.header.storeSchema}`;
  return `cluster ${b.header.cluster}, revision ${b.header.revision}, ${b.header.entryCount} entries${layout}, taken ${b.header.createdAt}`;
}

export async function runBackup(ctx: CliContext, file: string): Promise<void> {
  const client = await openClient(ctx);
  const bytes = await client.bytes('/v1/backup', MAX_BACKUP_BYTES);
  // Checked before it is written: a backup that cannot be restored is worse than none.
  const backup = decodeBackup(bytes);
  // The store holds secrets and node credential hashes: owner-only, like the data dir.
  await writeFileAtomic(file, bytes, 0o600).catch((err: unknown) => {
    throw new GroveError(ErrorCode.InvalidArgument, `cannot write ${file}: ${errorMessage(err)}`, { cause: err });
  });
  writeLine(ctx.io.stdout, `backup written to ${file}: ${describeBackup(backup)} (${bytes.length} bytes)`);
}

/** Reads a backup file, refusing anything larger than a backup can be before reading it. */
async function readBackupFile(file: string): Promise<Uint8Array> {
  let handle;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new GroveError(ErrorCode.InvalidArgument, `${file} is not a file`);
    if (info.size > MAX_BACKUP_BYTES) throw new GroveError(ErrorCode.SizeLimit, `${file} is larger than a backup can be (${MAX_BACKUP_BYTES} bytes)`);
    handle = await open(file, 'r');
    // Read at most one byte past the limit, in case the file grew since stat().
    const buffer = Buffer.alloc(Math.min(info.size, MAX_BACKUP_BYTES) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_BACKUP_BYTES) throw new GroveError(ErrorCode.SizeLimit, `${file} is larger than a backup can be`);
    return buffer.subarray(0, bytesRead);
  } catch (err) {
    if (isGroveError(err)) throw err;
    throw new GroveError(ErrorCode.InvalidArgument, `cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await handle?.close();
  }
}

async function openStoppedStore(ctx: CliContext): Promise<LevelStore> {
  const store = roleStore('server', serverStorePath(ctx.dataDir), ctx.logger);
  try {
    await store.open();
  } catch (err) {
    if (isGroveError(err) && err.details.locked === true) {
      throw new GroveError(ErrorCode.Conflict, `the server's store in ${ctx.dataDir} is in use: stop grove server before restoring`, { cause: err });
    }
    throw err;
  }
  return store;
}

/**
 * What a restore writes: everything but the records of what was last published to each node
 * (targets/). Those describe the agents' present, not the backup's: kept, an older backup's
 * record with an older revision would be re-published as it was, and agents that applied a newer
 * target since would ignore it. Without them the server publishes every node's target afresh,
 * at a revision above anything issued before.
 */
export function restorableEntries(entries: readonly { key: string; value: unknown }[]): { key: string; value: unknown }[] {
  return entries.filter((e) => !e.key.startsWith(LEGACY_KEYS.targetPrefix) && !e.key.startsWith(GroveKeys.targetPrefix)).map(({ key, value }) => ({ key, value }));
}

/**
 * The entries a restore writes: a backup of this version as it is; a backup taken by Grove 0.1
 * through the same migration as a 0.1 data dir at start (its sealed records opened with the
 * data dir's secrets key), so the store is in the object layout before the server starts.
 */
export async function entriesToRestore(entries: readonly StoreEntry[], serverDir: string, now: Date): Promise<{ entries: { key: string; value: unknown }[]; migrated: boolean }> {
  // No key file: a 0.1 backup without sealed records still restores; one with them is refused by name.
  const hasKey = await stat(secretKeyPath(serverDir)).then(
    () => true,
    () => false,
  );
  const key = hasKey ? (await loadSecretKey(serverDir, false)).key : undefined;
  const plan = planUpgrade(entries, key, { now, newUid: randomUUID });
  if (plan.state !== 'migrated') return { entries: restorableEntries(entries), migrated: false };
  const result = new Map(entries.map((e) => [e.key, e.value]));
  for (const op of plan.ops) {
    if (op.type === 'put') result.set(op.key, op.value);
    else result.delete(op.key);
  }
  return { entries: restorableEntries([...result].map(([k, value]) => ({ key: k, value }))), migrated: true };
}

export async function runRestore(ctx: CliContext, file: string, options: { readonly force: boolean }): Promise<void> {
  const backup = decodeBackup(await readBackupFile(file));
  const store = await openStoppedStore(ctx);
  try {
    const current = await storedClusterName(store);
    if (current !== undefined && current !== backup.header.cluster && !options.force) {
      throw new GroveError(
        ErrorCode.Conflict,
        `${file} is a backup of cluster "${backup.header.cluster}" but ${ctx.dataDir} belongs to cluster "${current}" (--force restores it anyway)`,
      );
    }
    const restore = await entriesToRestore(backup.entries, join(ctx.dataDir, 'server'), new Date());
    // Above both the backup's revision and the store's: agents ignore targets that are not newer.
    const revision = await store.replaceAll(restore.entries, backup.header.revision);
    const migrated = restore.migrated ? '; upgraded from the Grove 0.1 layout' : '';
    writeLine(ctx.io.stdout, `restored ${file} (${describeBackup(backup)})${migrated}; store revision is now ${revision}`);
  } finally {
    await store.close();
  }
}
