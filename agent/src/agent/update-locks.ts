/**
 * Update locks on the host (balena-style, docs/agent.md): every app gets a directory
 * `<root>/<app>/`, bind-mounted read-write into each of its containers at /grove/lock
 * (GROVE_LOCK_DIR). While a file `updates.lock` exists there the agent does not stop the app's
 * running containers (update-gate.ts), up to the app's lock maximum.
 *
 * Release is noticed at once through fs.watch on the directories of held apps (inotify sees
 * writes made through the bind mount), with the reconciler's poll as the fallback.
 */
import { watch, type FSWatcher } from 'node:fs';
import { access, chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../src/core/logger.js';
import { errorMessage } from '../../../src/core/errors.js';

/** Where the lock directory appears inside a container, and the file that holds the lock. */
export const LOCK_MOUNT_PATH = '/grove/lock';
export const LOCK_FILE = 'updates.lock';
export const LOCK_DIR_ENV = 'GROVE_LOCK_DIR';

/** What the reconciler needs of locks; MemoryUpdateLocks and HostUpdateLocks implement it. */
export interface UpdateLocks {
  held(app: string): Promise<boolean>;
  /** Calls `onChange` when a lock of one of `apps` may have changed; replaces the previous set. Nothing after close(). */
  watch(apps: readonly string[], onChange: () => void): void;
  /**
   * Forgets the lock state of every app not in `apps` (nothing of it on the node any more), so a
   * lock file left behind by a deleted app cannot hold back a later app of the same name.
   */
  prune(apps: ReadonlySet<string>): Promise<void>;
  close(): void;
}

/** App names are DNS names, "<namespace>_" before them outside the default namespace; anything else never becomes a path. */
const SAFE_APP = /^[a-z0-9]([a-z0-9._-]{0,315}[a-z0-9])?$/;

export class HostUpdateLocks implements UpdateLocks {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly root: string, logger: Logger) {
    this.log = logger.child({ component: 'agent-update-locks' });
  }

  /** The app's lock directory, created (world-writable: the workload may run as any user). */
  async ensureDir(app: string): Promise<string | undefined> {
    if (!SAFE_APP.test(app)) return undefined;
    const dir = join(this.root, app);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    return dir;
  }

  async held(app: string): Promise<boolean> {
    if (!SAFE_APP.test(app)) return false;
    try {
      await access(join(this.root, app, LOCK_FILE));
      return true;
    } catch {
      return false;
    }
  }

  watch(apps: readonly string[], onChange: () => void): void {
    const wanted = new Set(this.closed ? [] : apps.filter((a) => SAFE_APP.test(a)));
    for (const [app, w] of this.watchers) {
      if (!wanted.has(app)) {
        w.close();
        this.watchers.delete(app);
      }
    }
    for (const app of wanted) {
      if (this.watchers.has(app)) continue;
      try {
        const w = watch(join(this.root, app), { persistent: false }, () => onChange());
        w.on('error', () => {
          w.close();
          this.watchers.delete(app);
        });
        this.watchers.set(app, w);
      } catch (err) {
        // The poll still notices the release, only later.
        this.log.debug({ app, err: errorMessage(err) }, 'cannot watch lock directory');
      }
    }
  }

  async prune(apps: ReadonlySet<string>): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch {
      return; // no lock directory created yet
    }
    for (const app of entries) {
      if (apps.has(app) || !SAFE_APP.test(app)) continue;
      this.watchers.get(app)?.close();
      this.watchers.delete(app);
      await rm(join(this.root, app), { recursive: true, force: true }).catch((err: unknown) => this.log.debug({ app, err: errorMessage(err) }, 'cannot remove lock directory'));
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/** In-memory locks for tests and hollow nodes: `hold(app)` / `release(app)` steer them. */
export class MemoryUpdateLocks implements UpdateLocks {
  private readonly locked = new Set<string>();
  private listener: (() => void) | undefined;
  private watched: readonly string[] = [];
  private closed = false;

  hold(app: string): void {
    this.locked.add(app);
    if (this.watched.includes(app)) this.listener?.();
  }

  release(app: string): void {
    this.locked.delete(app);
    if (this.watched.includes(app)) this.listener?.();
  }

  async held(app: string): Promise<boolean> {
    return this.locked.has(app);
  }

  watch(apps: readonly string[], onChange: () => void): void {
    if (this.closed) return;
    this.watched = [...apps];
    this.listener = onChange;
  }

  async prune(apps: ReadonlySet<string>): Promise<void> {
    for (const app of [...this.locked]) if (!apps.has(app)) this.locked.delete(app);
  }

  close(): void {
    this.closed = true;
    this.listener = undefined;
  }
}
