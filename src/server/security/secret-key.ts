/**
 * The server's data-encryption key: 32 random bytes in <data-dir>/server/secrets.key (0600),
 * created at first start. Secrets and per-node keys in the store are sealed with it
 * (src/server/sealed-store.ts). It is never regenerated over sealed data: losing it loses the
 * Secrets, so a missing key with sealed records in the store is an error, not a fresh start.
 * Backups carry only ciphertext; the key is copied by hand like the admin token.
 */
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { KEY_BYTES, keyId } from '../../core/seal.js';
import { writeFileAtomic } from './files.js';

export const SECRET_KEY_FILE = 'secrets.key';

export interface SecretKey {
  key: Buffer;
  id: string;
  path: string;
}

export function secretKeyPath(serverDir: string): string {
  return join(serverDir, SECRET_KEY_FILE);
}

/**
 * Reads the key; creates it only when it does not exist AND `mayCreate` (the store holds no
 * sealed data). Refuses a key file that is unreadable, of the wrong size, or readable by
 * anyone but its owner.
 */
export async function loadSecretKey(serverDir: string, mayCreate: boolean): Promise<SecretKey & { created: boolean }> {
  const path = secretKeyPath(serverDir);
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new GroveError(ErrorCode.ConfigInvalid, `cannot read the secrets key ${path}: ${errorMessage(err)}`, { cause: err, details: { file: path } });
    }
    if (!mayCreate) {
      throw new GroveError(
        ErrorCode.ConfigInvalid,
        `the secrets key ${path} is missing but the store holds encrypted Secrets: restore the key file from where you copied it (see docs/operations.md); refusing to start`,
        { details: { file: path } },
      );
    }
    const key = randomBytes(KEY_BYTES);
    await writeFileAtomic(path, key, 0o600);
    return { key, id: keyId(key), path, created: true };
  }
  if ((mode & 0o077) !== 0) {
    throw new GroveError(ErrorCode.ConfigInvalid, `the secrets key ${path} has mode ${(mode & 0o777).toString(8)}: it must be readable by its owner only (chmod 600)`, { details: { file: path } });
  }
  let key: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      key = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `cannot read the secrets key ${path}: ${errorMessage(err)}`, { cause: err, details: { file: path } });
  }
  if (key.length !== KEY_BYTES) {
    throw new GroveError(ErrorCode.ConfigInvalid, `the secrets key ${path} holds ${key.length} bytes, expected ${KEY_BYTES}: it is damaged or not a Grove key`, { details: { file: path } });
  }
  return { key, id: keyId(key), path, created: false };
}
