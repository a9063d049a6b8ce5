/**
 * The real ConfigSource: the ConfigMaps and Secrets the server sent this node over its config
 * topic (src/core/wire-config.ts). The last bundle is kept on disk exactly as received —
 * encrypted with the node's key — written atomically and only when a newer revision arrives;
 * plaintext lives only in memory. After a restart without a server, load() serves the stored
 * bundle, so pods keep their configuration offline.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { decodeConfigMessage, openConfigBundle, type ConfigMessage } from '../../../src/core/wire-config.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import { refKey } from '../../../src/core/config-refs.js';
import { configRef, type ConfigKind, type ConfigObject, type ConfigRef, type ConfigSource } from './config-source.js';

type Changed = readonly ConfigRef[];

/** An object's reference: its namespace as received (absent = default). */
const refOf = (o: ConfigObject): ConfigRef => configRef(o.kind, o.name, o.namespace);

export interface SyncedConfigOptions {
  /** Where the encrypted bundle is kept, e.g. <data-dir>/agent/config.bundle (mode 0600). */
  file: string;
  cluster: string;
  node: string;
  /** The node's config key from its join; absent for nodes that joined before it existed. */
  key?: Buffer;
  /** Asks the server for the key when there is none (at most once a minute). */
  fetchKey?: () => Promise<Buffer | undefined>;
  logger: Logger;
  now?: () => number;
}

const KEY_RETRY_MS = 60_000;

export class SyncedConfig implements ConfigSource {
  private readonly log: Logger;
  private objects = new Map<string, ConfigObject>();
  private current = 0;
  private key: Buffer | undefined;
  private lastKeyFetch = -Infinity;
  private keyFetch: Promise<Buffer | undefined> | undefined;
  private readonly listeners = new Set<(changed: Changed) => void>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SyncedConfigOptions) {
    this.log = opts.logger.child({ component: 'agent-config' });
    this.key = opts.key;
  }

  /** Revision of the bundle in use (0: none). */
  get revision(): number {
    return this.current;
  }

  get(kind: ConfigKind, name: string, namespace?: string): ConfigObject | undefined {
    return this.objects.get(refKey(configRef(kind, name, namespace)));
  }

  onChange(listener: (changed: Changed) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the stored bundle (no notifications: nothing has used the source yet). */
  async load(): Promise<void> {
    let payload: Buffer;
    try {
      payload = await readFile(this.opts.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err: errorMessage(err) }, 'stored config bundle unreadable, waiting for the server');
      // A node joined before config keys: ask for one now, in the background (the server may be away).
      if (!this.key) void this.usableKey();
      return;
    }
    try {
      const message = this.checked(decodeConfigMessage(payload));
      const key = await this.usableKey();
      if (!key) {
        this.log.warn('no config key yet: the stored config bundle cannot be read until the server hands one out');
        return;
      }
      this.install(message.revision, openConfigBundle(message, key).objects);
      this.log.info({ revision: message.revision, objects: this.objects.size }, 'stored config bundle loaded');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'stored config bundle rejected, waiting for the server');
    }
  }

  /** A message from the config topic; handled one at a time, in arrival order. */
  handle(payload: Buffer): Promise<void> {
    this.chain = this.chain.then(() => this.apply(payload)).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'config bundle dropped'));
    return this.chain;
  }

  private async apply(payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // cleared by the server (node removed)
    const message = this.checked(decodeConfigMessage(payload));
    if (message.revision <= this.current) {
      this.log.debug({ revision: message.revision, current: this.current }, 'config bundle not newer, ignored');
      return;
    }
    const key = await this.usableKey();
    if (!key) {
      this.log.warn({ revision: message.revision }, 'config bundle received but this node has no config key yet (rejoin, or wait for the server)');
      return;
    }
    const bundle = openConfigBundle(message, key);
    // Persisted before use, still encrypted: a restart serves exactly what was in use.
    await writeFileAtomic(this.opts.file, payload, 0o600);
    const changed = this.install(bundle.revision, bundle.objects);
    this.log.info({ revision: bundle.revision, objects: this.objects.size, changed: changed.length }, 'config bundle applied');
    if (changed.length > 0) this.notify(changed);
  }

  private checked(message: ConfigMessage): ConfigMessage {
    if (message.cluster !== this.opts.cluster || message.node !== this.opts.node) {
      throw new Error(`config bundle addressed to ${message.cluster}/${message.node}, not to this node`);
    }
    return message;
  }

  /** The key; without one, asks the server (one request at a time, at most once a minute). */
  private usableKey(): Promise<Buffer | undefined> {
    if (this.key || !this.opts.fetchKey) return Promise.resolve(this.key);
    if (this.keyFetch) return this.keyFetch;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.lastKeyFetch < KEY_RETRY_MS) return Promise.resolve(undefined);
    this.lastKeyFetch = now;
    this.keyFetch = this.opts
      .fetchKey()
      .then(
        (key) => {
          this.key = key;
          if (key) this.log.info('config key received from the server');
          return key;
        },
        (err: unknown) => {
          this.log.warn({ err: errorMessage(err) }, 'fetching the config key failed, will retry');
          return undefined;
        },
      )
      .finally(() => (this.keyFetch = undefined));
    return this.keyFetch;
  }

  /**
   * Swaps in the new objects; returns what was added, changed (by version, or by a Secret's type:
   * a server upgraded to send types re-sends the same versions with them) or removed.
   */
  private install(revision: number, objects: readonly ConfigObject[]): Changed {
    const next = new Map(objects.map((o) => [refKey(refOf(o)), o]));
    const changed: ConfigRef[] = [];
    for (const [k, o] of next) {
      const before = this.objects.get(k);
      if (before?.version !== o.version || before.type !== o.type) changed.push(refOf(o));
    }
    for (const [k, o] of this.objects) if (!next.has(k)) changed.push(refOf(o));
    this.objects = next;
    this.current = revision;
    return changed;
  }

  private notify(changed: Changed): void {
    for (const listener of this.listeners) {
      try {
        listener(changed);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'config change listener failed');
      }
    }
  }
}
