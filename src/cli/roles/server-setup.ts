import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { GroveKeys, LEGACY_KEYS } from '../../core/keys.js';
import type { Store } from '../../store/store.js';
import { writeFileAtomic } from '../../store/durable-file.js';

/** The address other machines should use: the bind address unless it is a wildcard. */
export function advertisedHost(bindHost: string, advertise?: string): string {
  if (advertise) return advertise;
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Where this process itself connects: loopback when bound to every interface. */
export function localHost(bindHost: string): string {
  return bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
}

export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A secret created at first start and kept in a 0600 file. */
export async function ensureSecretFile(path: string): Promise<string> {
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('hex');
  await writeFileAtomic(path, secret + '\n', 0o600);
  return secret;
}

/** The cluster's name as a store holds it: grove/meta/cluster, or `cluster` in a 0.1 store not upgraded yet. */
export async function storedClusterName(store: Store): Promise<string | undefined> {
  for (const key of [GroveKeys.cluster, LEGACY_KEYS.cluster]) {
    const name = (await store.get<{ name?: unknown }>(key))?.value.name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

/** The cluster name is chosen at first start and kept in the store; a mismatch is an error. */
export async function ensureClusterName(store: Store, requested: string | undefined): Promise<string> {
  const stored = await storedClusterName(store);
  if (stored) {
    if (requested && requested !== stored) {
      throw new GroveError(ErrorCode.ConfigInvalid, `--cluster ${requested}: this data dir belongs to cluster "${stored}"`);
    }
    return stored;
  }
  const name = requested ?? 'default';
  await store.commit([{ type: 'put', key: GroveKeys.cluster, value: { name } }]);
  return name;
}

/**
 * A corrupt cluster-name record is not quarantined at start unless --cluster names the cluster:
 * without it the server would pick "default" and every node would be on another cluster's topics.
 */
export function refuseClusterNameLoss(corruptKeys: readonly string[], requested: string | undefined): void {
  if (requested === undefined && (corruptKeys.includes(GroveKeys.cluster) || corruptKeys.includes(LEGACY_KEYS.cluster))) {
    throw new GroveError(
      ErrorCode.ConfigInvalid,
      'the store\'s cluster name record is corrupt: start once with --cluster NAME (the name this cluster had) to replace it; `grove server fsck --dry-run` shows the record',
    );
  }
}

export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

export { join };
