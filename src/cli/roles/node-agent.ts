import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { parseDurationSeconds } from '../../core/quantity.js';
import { Agent } from '../../../agent/src/agent/agent.js';
import { ContainerManagerRuntime } from '../../../agent/src/agent/container-manager-runtime.js';
import { HostUpdateLocks } from '../../../agent/src/agent/update-locks.js';
import { PodVolumes } from '../../../agent/src/agent/volumes/pod-volumes.js';
import { factsProvider } from '../../../agent/src/agent/facts.js';
import type { JoinConfig } from '../../../agent/src/agent/join-client.js';
import { agentEntryCheck } from '../../../agent/src/agent/store-checks.js';
import { agentStorePath, openRoleStore } from './store-fsck.js';
import { SyncedConfig } from '../../../agent/src/agent/synced-config.js';
import { fetchConfigKey } from '../../../agent/src/agent/config-key.js';
import { openLocalRuntime } from '../local-runtime.js';
import { openPodSandboxes } from '../../../agent/src/runtime/pod-sandbox-setup.js';
import { packageVersion } from '../package-root.js';

export interface NodeAgentOptions {
  dataDir: string;
  join: JoinConfig;
  labels: Record<string, string>;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  runtime?: 'auto' | 'crun' | 'runc';
  heartbeatSeconds?: number;
  restartBackoffSeconds?: number;
  /** Lock maximum for apps without grove.io/update-lock-max (default 1 h). */
  lockMaxSeconds?: number;
  /** hostPath volumes must lie under these on this node; absent = any absolute path. */
  hostPathRoots?: string[];
}

export interface RunningAgent {
  agent: Agent;
  stop(): Promise<void>;
}

/**
 * Starts the node agent for a data dir: its own LevelDB (<data-dir>/agent/db) holding the last
 * target, the real runtime (`grove ctr`'s), and MQTT with the credentials from joining.
 * Stopping it never stops containers.
 */
export async function startNodeAgent(options: NodeAgentOptions): Promise<RunningAgent> {
  const { dataDir, join: joined, logger } = options;
  const local = await openLocalRuntime({ dataDir, logger, env: options.env, ...(options.runtime ? { runtime: options.runtime } : {}) });
  // Per-app update-lock directories, bound into the app's containers at /grove/lock.
  const locks = new HostUpdateLocks(join(dataDir, 'agent', 'locks'), logger);
  // ConfigMaps/Secrets of this node's pods, kept encrypted in <data-dir>/agent/config.bundle.
  const config = new SyncedConfig({
    file: join(dataDir, 'agent', 'config.bundle'),
    cluster: joined.cluster,
    node: joined.node,
    ...(joined.configKey ? { key: Buffer.from(joined.configKey, 'base64') } : { fetchKey: () => fetchConfigKey(joined, { dataDir }) }),
    logger,
  });
  // Pod volumes: <data-dir>/pods/<pod>/volumes, named volumes in <data-dir>/volumes.
  const volumes = new PodVolumes({ dataDir, logger, config, ...(options.hostPathRoots ? { hostPathRoots: options.hostPathRoots } : {}) });
  // Pod sandboxes: shared network (CNI), IPC and UTS namespaces and /etc/hosts per pod.
  const sandboxes = await openPodSandboxes(dataDir, local.podNetwork, logger);
  // Refuses to start on missing commits; quarantines corrupt entries (docs/reliability.md).
  const { store } = await openRoleStore({ role: 'agent', path: agentStorePath(dataDir), check: async () => agentEntryCheck }, logger);
  const agent = new Agent({
    nodeName: joined.node,
    cluster: joined.cluster,
    store,
    runtime: new ContainerManagerRuntime({ containers: local.containers, images: local.images, logger, lockDirs: locks, config, volumes, sandboxes }),
    locks,
    mqtt: { ...joined.mqtt, ...(joined.caCert ? { ca: joined.caCert } : {}) },
    logger,
    config,
    facts: factsProvider({
      dataDir,
      ociRuntime: local.runtimeName,
      cgroupVersion: local.host.cgroupVersion,
      agentVersion: packageVersion(),
      labels: options.labels,
    }),
    ...(options.heartbeatSeconds ? { heartbeatSeconds: options.heartbeatSeconds } : {}),
    ...(options.restartBackoffSeconds ? { restartBackoffSeconds: options.restartBackoffSeconds } : {}),
    ...(options.lockMaxSeconds !== undefined ? { lockMaxSeconds: options.lockMaxSeconds } : {}),
  });
  try {
    await agent.start();
  } catch (err) {
    // Opened above for its checks: a failed start must not leave it locked.
    await store.close().catch(() => undefined);
    throw err;
  }
  return {
    agent,
    stop: () => agent.stop(),
  };
}

/** GROVE_HEARTBEAT_SECONDS shortens the status heartbeat (tests, demos). */
export function heartbeatOverride(env: NodeJS.ProcessEnv): { heartbeatSeconds?: number } {
  const value = Number(env.GROVE_HEARTBEAT_SECONDS);
  return Number.isFinite(value) && value > 0 ? { heartbeatSeconds: value } : {};
}

/**
 * The first restart delay of a crash loop: `--restart-backoff` wins, else
 * GROVE_RESTART_BACKOFF_SECONDS (tests, and the server's local agent, which has no flag of its
 * own), else the agent's default (10 s).
 */
export function restartBackoffOption(flag: string | undefined, env: NodeJS.ProcessEnv): { restartBackoffSeconds?: number } {
  if (flag !== undefined) return { restartBackoffSeconds: parseDurationSeconds(flag, '--restart-backoff') };
  const raw = env.GROVE_RESTART_BACKOFF_SECONDS;
  if (raw === undefined || raw === '') return {};
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new GroveError(ErrorCode.InvalidArgument, `GROVE_RESTART_BACKOFF_SECONDS: "${raw}" is not a positive number of seconds`);
  }
  return { restartBackoffSeconds: value };
}

/**
 * The default update-lock maximum: `--update-lock-max` wins, else GROVE_UPDATE_LOCK_MAX (a
 * duration; the server's local agent has no flag of its own), else the agent's default (1 h).
 */
export function lockMaxOption(flag: string | undefined, env: NodeJS.ProcessEnv): { lockMaxSeconds?: number } {
  if (flag !== undefined) return { lockMaxSeconds: parseDurationSeconds(flag, '--update-lock-max') };
  const raw = env.GROVE_UPDATE_LOCK_MAX;
  return raw === undefined || raw === '' ? {} : { lockMaxSeconds: parseDurationSeconds(raw, 'GROVE_UPDATE_LOCK_MAX') };
}
