import { NodeRegistry } from '../../server/objects/node-registry.js';
import type { ObjectStore } from '../../server/objects/object-store.js';
import { createJoinToken, revokeJoinToken } from '../../server/security/tokens.js';
import { joinConfigPath, loadJoinConfig, type JoinConfig } from '../../../agent/src/agent/join-client.js';
import { writeFileAtomic } from '../../store/durable-file.js';
import { ensurePrivateDir } from './server-setup.js';
import { dirname } from 'node:path';
import { ensureNodeKey } from '../../server/node-keys.js';

export interface LocalJoinOptions {
  dataDir: string;
  /** The control plane's object store (its Node objects, credentials and keys). */
  objects: ObjectStore;
  cluster: string;
  /** --node-name (default: the hostname, made a valid name). */
  nodeName: string;
  labels: Record<string, string>;
  serverUrl: string;
  brokerUrl: string;
  caFingerprint?: string;
  caCertPem?: string;
  registerNode?: (r: { username: string; password: string }) => Promise<void>;
}

/**
 * The server's own host joins like any other node (same records, same credentials, same ACLs),
 * through a one-minute token that is revoked straight away. A later start reuses the stored
 * join so nothing is written when nothing changed.
 */
export async function ensureLocalJoin(options: LocalJoinOptions): Promise<JoinConfig> {
  const { nodeName } = options;
  const existing = await loadJoinConfig(options.dataDir);
  const { store } = options.objects;
  const node = await options.objects.get({ kind: 'Node', name: nodeName });
  const now = new Date();
  if (existing && existing.cluster === options.cluster && existing.node === nodeName && existing.mqtt.url === options.brokerUrl && node) {
    // A join from before config keys, or a store restored with another key: written only then.
    const configKey = (await ensureNodeKey(store, nodeName, now)).toString('base64');
    if (existing.configKey === configKey) return existing;
    const updated = { ...existing, configKey };
    await writeFileAtomic(joinConfigPath(options.dataDir), JSON.stringify(updated, null, 2) + '\n', 0o600);
    return updated;
  }
  const { token, id } = await createJoinToken(store, { ttlSeconds: 60, caFingerprint: options.caFingerprint, now });
  try {
    // The server's own host needs no proof of a name it holds: it is the server.
    const [outcome] = await new NodeRegistry(options.objects).joinBatch([{ token, nodeName, labels: options.labels }], now, { replaceExisting: true });
    if (!outcome!.ok) throw outcome!.error;
    const { result, registration, configKey } = outcome!.value;
    await options.registerNode?.(registration);
    const config: JoinConfig = {
      cluster: options.cluster,
      node: result.node,
      serverUrl: options.serverUrl,
      mqtt: { url: options.brokerUrl, username: result.username, password: result.password },
      ...(options.caCertPem ? { caCert: options.caCertPem } : {}),
      configKey: configKey.toString('base64'),
      joinedAt: now.toISOString(),
    };
    await ensurePrivateDir(dirname(joinConfigPath(options.dataDir)));
    await writeFileAtomic(joinConfigPath(options.dataDir), JSON.stringify(config, null, 2) + '\n', 0o600);
    return config;
  } finally {
    await revokeJoinToken(store, id);
  }
}
