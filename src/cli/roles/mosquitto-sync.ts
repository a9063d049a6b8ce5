import { join } from 'node:path';
import { createBatcher } from '../../core/batcher.js';
import type { Logger } from '../../core/logger.js';
import type { NodeRecord } from '../../core/model.js';
import type { Store } from '../../store/store.js';
import { nodeUsername, type ServerCredentials } from '../../server/security/credentials.js';
import { reloadMosquitto, writeMosquittoFiles } from '../../server/security/mosquitto.js';

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
}

/**
 * Keeps an external Mosquitto's password and ACL files in step with the cluster's nodes: written
 * at start, rewritten (and Mosquitto reloaded) whenever a node joins. Only a joining node's new
 * password is known; other nodes keep their existing password lines. Joins arriving while a
 * rewrite runs are written together by the next one.
 */
export function mosquittoSync(options: MosquittoSyncOptions) {
  const log = options.logger.child({ component: 'mosquitto' });
  const write = async (joined: { username: string; password: string }[] = []) => {
    const nodes = await options.store.list<NodeRecord>('nodes/');
    const fresh = new Map(joined.map((j) => [j.username, j]));
    const users = [
      { username: options.server.username, password: options.server.password },
      ...nodes.map((n) => {
        const username = nodeUsername(n.value.meta.name);
        return fresh.get(username) ?? { username };
      }),
    ];
    const listed = new Set(users.map((u) => u.username));
    for (const j of fresh.values()) if (!listed.has(j.username)) users.push(j);
    const files = await writeMosquittoFiles(options.dir, {
      cluster: options.cluster,
      users,
      listener: options.listener,
      ...(options.tls ? { tls: options.tls } : {}),
      pidFile: options.pidFile ?? join(options.dir, 'mosquitto.pid'),
      ...(options.runAsUser ? { runAsUser: options.runAsUser } : {}),
    });
    if (options.pidFile) {
      await reloadMosquitto(options.pidFile).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not reload mosquitto'));
    }
    return files;
  };
  // Files are rewritten and Mosquitto reloaded once per batch of joins, never concurrently:
  // two overlapping rewrites could each keep the other's new password out of the file.
  const onJoin = createBatcher<{ username: string; password: string }, void>(async (registrations) => {
    await write(registrations);
    return registrations.map(() => ({ ok: true as const, value: undefined }));
  });
  return {
    writeAll: () => write(),
    onJoin,
  };
}
