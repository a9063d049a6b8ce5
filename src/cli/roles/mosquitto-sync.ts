import { join } from 'node:path';
import { createBatcher } from '../../core/batcher.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { kindPrefix } from '../../core/keys.js';
import type { Node } from '../../core/objects/cluster.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { Store } from '../../store/store.js';
import { nodeUsername, type ServerCredentials } from '../../server/security/credentials.js';
import { RANDOM_PASSWORD_ITERATIONS, mosquittoPasswordHash, reloadMosquitto, writeMosquittoFiles, type MosquittoUser } from '../../server/security/mosquitto.js';

export interface MosquittoSyncOptions {
  dir: string;
  cluster: string;
  store: Store;
  server: ServerCredentials;
  listener: { host: string; port: number };
  tls?: { certPem: string; keyPem: string };
  pidFile?: string;
  runAsUser?: string;
  logger: Logger;
  /** Without a broker round trip (setRoundTrip): a second SIGHUP this long after the last (default 3 s). */
  confirmReloadMs?: number;
  /** How long to wait for the broker to come back from a reload (default 60 s). */
  reloadTimeoutMs?: number;
  /** Longest a join answer waits for the reload that lets the node log in (default 2 s). */
  joinWaitMs?: number;
}

/** Node objects (nodes/<name>): a node's broker login lives as long as its object. */
const NODE_PREFIX = kindPrefix(KINDS.Node);
/** A pause after a reload as long as the reload took, but never longer than this. */
const MAX_PAUSE_MS = 5_000;

/**
 * Keeps an external Mosquitto's password and ACL files in step with the cluster's nodes: written
 * at start, rewritten (and Mosquitto reloaded) whenever nodes join. Only a joining node's new
 * password is known; the others keep the hash they have, which is held in memory (read from the
 * old file once at start) together with the node list (followed through the store's watch), so
 * a rewrite reads neither the store nor the old file.
 *
 * Three Mosquitto (2.0) properties shape the timing (docs/operations.md, "Brokers and fleet size"):
 * - loading the ACL file takes time quadratic in its users (~1.3 s for 10,000 on a small VM),
 *   and while it reloads Mosquitto serves no client;
 * - it clears its reload flag when a reload ENDS, so a SIGHUP arriving during a reload is lost,
 *   and the nodes whose join it announced could never log in (the last 150–190 nodes of the
 *   paced 10,000-node bench);
 * - it handles SIGHUP only once it has loaded its files at start; before, SIGHUP kills it.
 * So after each SIGHUP the sync waits for a QoS 1 round trip through the broker (two, in fact:
 * the first packet may be read in the same loop pass as the signal), which proves the reload
 * done: no SIGHUP is ever sent during a reload, and a join is answered only once the node can
 * log in. Then it pauses as long as the reload took, so that during a join storm Mosquitto
 * spends at most half its time reloading; joins arriving meanwhile share the next rewrite.
 */
export function mosquittoSync(options: MosquittoSyncOptions) {
  const log = options.logger.child({ component: 'mosquitto' });
  /** Node usernames → their hash (undefined until known: taken from the old file at start). */
  const nodes = new Map<string, string | undefined>();
  let roundTrip: (() => Promise<void>) | undefined;
  let confirmTimer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let pauseUntil = 0;
  let lastBatch = 0;

  /** SIGHUP; false when there is no Mosquitto to signal (not started yet). */
  const signal = async (): Promise<boolean> => {
    if (!options.pidFile) return false;
    return reloadMosquitto(options.pidFile).then(
      () => true,
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'could not reload mosquitto');
        return false;
      },
    );
  };

  /** True when the broker answered twice after the SIGHUP, i.e. has finished the reload. */
  const reloaded = async (): Promise<boolean> => {
    if (!roundTrip) return false;
    const timeoutMs = options.reloadTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from the broker within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([roundTrip().then(roundTrip), timeout]);
      return true;
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not confirm that mosquitto reloaded');
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  /** `confirm`: whether a reload that cannot be confirmed is followed by one more SIGHUP. */
  const write = async (confirm: boolean) => {
    const users: MosquittoUser[] = [{ username: options.server.username, password: options.server.password }];
    for (const [username, hash] of nodes) users.push(hash === undefined ? { username } : { username, hash });
    const files = await writeMosquittoFiles(options.dir, {
      cluster: options.cluster,
      users,
      listener: options.listener,
      ...(options.tls ? { tls: options.tls } : {}),
      pidFile: options.pidFile ?? join(options.dir, 'mosquitto.pid'),
      ...(options.runAsUser ? { runAsUser: options.runAsUser } : {}),
    });
    for (const username of nodes.keys()) nodes.set(username, files.hashes.get(username));
    const started = Date.now();
    if (!(await signal())) return files;
    if (await reloaded()) {
      const tookMs = Date.now() - started;
      pauseUntil = Date.now() + Math.min(MAX_PAUSE_MS, tookMs);
      log.debug({ users: nodes.size, joined: lastBatch, reloadMs: tookMs }, 'mosquitto reloaded');
    } else if (confirm) {
      // Unconfirmed: one more SIGHUP later makes sure the final files are the loaded ones.
      if (confirmTimer) clearTimeout(confirmTimer);
      confirmTimer = setTimeout(() => void signal(), options.confirmReloadMs ?? 3000);
      confirmTimer.unref();
    }
    return files;
  };

  // Files are rewritten and Mosquitto reloaded once per batch of joins (and node deletions,
  // `null`: the node list already lost them), never concurrently: two overlapping rewrites
  // could each keep the other's new password out of the file.
  const register = createBatcher<{ username: string; password: string } | null, void>(async (registrations) => {
    const pause = pauseUntil - Date.now();
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    lastBatch = registrations.length;
    for (const r of registrations) if (r) nodes.set(r.username, mosquittoPasswordHash(r.password, undefined, RANDOM_PASSWORD_ITERATIONS));
    await write(true);
    return registrations.map(() => ({ ok: true as const, value: undefined }));
  });

  /**
   * A join is answered once Mosquitto has loaded the node's password, or after `joinWaitMs`
   * (a storm, where reloads of a large ACL queue up): the answer must not wait out the
   * client's timeout, and the node's first logins are refused and retried (agents reconnect
   * after a refused CONNACK) until the reload lands. A failed rewrite still fails the join
   * when it comes within that wait; later it is logged.
   */
  const onJoin = async (registration: { username: string; password: string }): Promise<void> => {
    const registered = register(registration);
    registered.catch((err: unknown) => log.error({ err: errorMessage(err), user: registration.username }, 'mosquitto files not rewritten'));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.joinWaitMs ?? 2000)));
    try {
      await Promise.race([registered, waited]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    /**
     * Lists the nodes, follows the store from then on, writes every file and reloads a
     * Mosquitto that already runs (without a confirming second SIGHUP: at start there is no
     * broker connection yet, and Mosquitto is often started after this, from these files).
     */
    writeAll: async () => {
      unwatch ??= options.store.watch((change) => {
        // A deleted node's login goes at once (`grove node delete`: Mosquitto re-reads the ACL,
        // so even a session still open can reach nothing); a new node is added by its join
        // (the only way a node record with a password comes to be).
        let removed = false;
        for (const op of change.ops) {
          if (op.type === 'delete' && op.key.startsWith(NODE_PREFIX)) removed = nodes.delete(nodeUsername(op.key.slice(NODE_PREFIX.length))) || removed;
        }
        if (removed) register(null).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'mosquitto files not rewritten after a node was deleted'));
      });
      for (const n of await options.store.list<Node>(NODE_PREFIX)) {
        const username = nodeUsername(n.value.metadata.name);
        if (!nodes.has(username)) nodes.set(username, undefined);
      }
      return write(false);
    },
    onJoin,
    /** How to reach the broker for a round trip (the control plane's connection, once it exists). */
    setRoundTrip: (fn: () => Promise<void>) => {
      roundTrip = fn;
    },
    close: () => {
      unwatch?.();
      if (confirmTimer) clearTimeout(confirmTimer);
    },
  };
}
