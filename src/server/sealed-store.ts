/**
 * A Store wrapper that keeps Secrets (secrets/) and per-node config keys (grove/nodekeys/) sealed at
 * rest: puts under those prefixes are encrypted with the server key (AES-256-GCM, the store key
 * as authenticated data, so a record copied under another name does not open), gets and lists
 * decrypt. Everything else passes through. snapshot() and replaceAll() are raw on purpose: a
 * backup carries ciphertext and a restore puts it back as it was.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { LEGACY_KEYS, SEALED_KEY_PREFIXES } from '../core/keys.js';
import { isSealed, keyId, seal, unseal, type Sealed } from '../core/seal.js';
import type { Store, StoreChange, StoreEntry, StoreOp, StoreSnapshot } from '../store/store.js';

export const SEALED_PREFIXES = SEALED_KEY_PREFIXES;

export function isSealedKey(key: string): boolean {
  return SEALED_PREFIXES.some((p) => key.startsWith(p));
}

function aadFor(key: string): string {
  return `grove-store/${key}`;
}

/** The plaintext of a sealed record stored under `storeKey`; throws when it does not open. */
export function openSealedValue(key: Buffer, storeKey: string, value: Sealed): unknown {
  return JSON.parse(unseal(key, value, aadFor(storeKey)).toString('utf8'));
}

/** `value` sealed as SealedStore seals a record stored under `storeKey` (for records written below it). */
export function sealStoreValue(key: Buffer, storeKey: string, value: unknown): Sealed {
  return seal(key, Buffer.from(JSON.stringify(value), 'utf8'), aadFor(storeKey));
}

export class SealedStore implements Store {
  readonly keyId: string;

  constructor(
    private readonly inner: Store,
    private readonly key: Buffer,
  ) {
    this.keyId = keyId(key);
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async get<T>(key: string): Promise<StoreEntry<T> | undefined> {
    const entry = await this.inner.get<T>(key);
    return entry && isSealedKey(key) ? this.opened(entry) : entry;
  }

  async list<T>(prefix: string): Promise<StoreEntry<T>[]> {
    const entries = await this.inner.list<T>(prefix);
    return entries.map((e) => (isSealedKey(e.key) ? this.opened(e) : e));
  }

  commit(ops: StoreOp[]): Promise<number> {
    return this.inner.commit(ops.map((op) => (op.type === 'put' && isSealedKey(op.key) && !isSealed(op.value) ? { ...op, value: this.sealValue(op.key, op.value) } : op)));
  }

  revision(): number {
    return this.inner.revision();
  }

  snapshot(): Promise<StoreSnapshot> {
    return this.inner.snapshot();
  }

  replaceAll(entries: { key: string; value: unknown }[], minRevision?: number): Promise<number> {
    return this.inner.replaceAll(entries, minRevision);
  }

  advanceRevision(min: number): Promise<number> {
    return this.inner.advanceRevision(min);
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return this.inner.watch(listener);
  }

  /**
   * Seals every record still in plaintext (written before encryption existed, or restored from
   * an old backup) in ONE commit, after checking that every sealed record is ours: a store
   * sealed with another key is refused at start rather than failing Secret by Secret.
   */
  async migrate(): Promise<{ sealed: number }> {
    const ops: StoreOp[] = [];
    for (const prefix of SEALED_PREFIXES) {
      for (const e of await this.inner.list(prefix)) {
        if (isSealed(e.value)) {
          if (e.value.keyId !== this.keyId) {
            throw new GroveError(
              ErrorCode.ConfigInvalid,
              `${e.key} was encrypted with key ${e.value.keyId}, but the secrets key in use is ${this.keyId}: restore the matching secrets.key (docs/operations.md); refusing to start`,
              { details: { key: e.key, keyId: e.value.keyId } },
            );
          }
          continue;
        }
        ops.push({ type: 'put', key: e.key, value: this.sealValue(e.key, e.value) });
      }
    }
    if (ops.length > 0) await this.inner.commit(ops);
    return { sealed: ops.length };
  }

  private sealValue(key: string, value: unknown): unknown {
    return sealStoreValue(this.key, key, value);
  }

  private opened<T>(entry: StoreEntry<T>): StoreEntry<T> {
    // A plaintext record not migrated yet (only between a restore and the next start).
    if (!isSealed(entry.value)) return entry;
    try {
      return { ...entry, value: openSealedValue(this.key, entry.key, entry.value) as T };
    } catch (err) {
      throw new GroveError(ErrorCode.Internal, `${entry.key} cannot be decrypted: ${(err as Error).message}`, { cause: err, details: { key: entry.key } });
    }
  }
}

/** Whether the raw store holds anything sealed (then a missing key file must not be replaced). */
export async function hasSealedRecords(store: Store): Promise<boolean> {
  // A 0.1 store not upgraded yet keeps its node keys at nodekeys/ (the upgrade reseals them).
  for (const prefix of [...SEALED_PREFIXES, LEGACY_KEYS.nodeKeyPrefix]) {
    if ((await store.list(prefix)).some((e) => isSealed(e.value))) return true;
  }
  return false;
}
