import { stat } from 'node:fs/promises';
import type { Logger } from '../../core/logger.js';
import { hasSealedRecords, SealedStore } from '../../server/sealed-store.js';
import { loadSecretKey, secretKeyPath } from '../../server/security/secret-key.js';
import { serverEntryCheck } from '../../server/store-checks.js';
import type { EntryCheck } from '../../store/quarantine.js';
import type { Store } from '../../store/store.js';

/**
 * The server's store with Secrets and node keys sealed: loads (or, for a store with nothing
 * sealed yet, creates) the secrets key, refuses a key that does not match the sealed records,
 * and seals plaintext records left by an older version in one commit.
 */
export async function openSealedStore(raw: Store, serverDir: string, log: Logger): Promise<{ store: SealedStore; secretKey: Buffer }> {
  const key = await loadSecretKey(serverDir, !(await hasSealedRecords(raw)));
  if (key.created) log.info({ file: key.path, keyId: key.id }, 'secrets key created: copy it with the admin token when backing up (docs/operations.md)');
  const store = new SealedStore(raw, key.key);
  const { sealed } = await store.migrate();
  if (sealed > 0) {
    // The old plaintext versions stay in LevelDB's files until a compaction drops them.
    if ('compact' in raw && typeof raw.compact === 'function') await (raw as { compact(): Promise<void> }).compact();
    log.info({ sealed }, 'plaintext Secrets encrypted at rest');
  }
  return { store, secretKey: key.key };
}

/**
 * The server store's entry check (src/server/store-checks.ts), with the secrets key when there
 * is one: a fresh data dir has none yet, and then nothing sealed to check either.
 */
export async function serverStoreCheck(serverDir: string): Promise<EntryCheck> {
  const present = await stat(secretKeyPath(serverDir)).then(
    () => true,
    () => false,
  );
  return serverEntryCheck(present ? (await loadSecretKey(serverDir, false)).key : undefined);
}
