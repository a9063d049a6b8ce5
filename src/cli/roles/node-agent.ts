import { join } from 'node:path';
import { CaddyProcess, ingressRunDir } from '../../../agent/src/runtime/net/ingress-caddy-process.js';
import { IngressCaddy, type SecretSource } from '../../../agent/src/runtime/net/ingress-caddy.js';
import type { Logger } from '../../core/logger.js';
import { Agent } from '../../../agent/src/agent/agent.js';
import { ContainerManagerRuntime } from '../../../agent/src/agent/container-manager-runtime.js';
import { HostUpdateLocks } from '../../../agent/src/agent/update-locks.js';
import { PodVolumes } from '../../../agent/src/agent/volumes/pod-volumes.js';
import { checkNodeIp, factsProvider, nodeCapacity } from '../../../agent/src/agent/facts.js';
import { PreviousLogs } from '../../../agent/src/agent/previous-logs.js';
import { UsageSampler } from '../../../agent/src/agent/usage.js';
import { systemClock } from '../../core/clock.js';
import type { JoinConfig } from '../../../agent/src/agent/join-client.js';
import { agentEntryCheck } from '../../../agent/src/agent/store-checks.js';
import { agentStorePath, openRoleStore } from './store-fsck.js';
import { SyncedConfig } from '../../../agent/src/agent/synced-config.js';
import { fetchConfigKey } from '../../../agent/src/agent/config-key.js';
import { openLocalRuntime, type RuntimeSettings } from '../local-runtime.js';
import { agentPodNetwork, netTag, openPodSandboxes, SANDBOX_RUN_ROOT } from '../../../agent/src/runtime/pod-sandbox-setup.js';
import { podNetworkConsumers } from '../../../agent/src/runtime/net/pod-network-consumers.js';
import { ServiceProxier } from '../../../agent/src/runtime/net/proxier.js';
import { ComposeIsolation } from '../../../agent/src/runtime/net/compose-isolation-programmer.js';
import { composePodsOf } from '../../../agent/src/runtime/net/compose-isolation-pods.js';
import type { LocalPod } from '../../../agent/src/runtime/net/compose-isolation.js';
import type { ClusterDns } from '../../../agent/src/agent/dns/cluster-dns.js';
import { ErrorCode, errorMessage, GroveError } from '../../core/errors.js';
import { packageVersion } from '../package-root.js';
import { hostPathRootsOption } from './host-path-roots.js';

/** The node agent's settings (NODE_AGENT_OPTIONS and RUNTIME_OPTIONS of src/cli/config/role-options.ts). */
export interface NodeAgentSettings extends RuntimeSettings {
  readonly label: Readonly<Record<string, string>>;
  /** How often an unchanged status is sent again. */
  readonly heartbeat: number;
  /** First restart delay of a crash loop. */
  readonly restartBackoff: number;
  /** Lock maximum for apps without grove.io/update-lock-max. */
  readonly updateLockMax: number;
  /** hostPath volumes must lie under these on this node; none = any absolute path. */
  readonly hostPathRoot: readonly string[];
  /** --node-ip: the InternalIP this node reports (absent: the first physical-looking address). */
  readonly nodeIp?: string | undefined;
  /** The cluster DNS address pods' resolv.conf names (--cluster-dns); '' = none (`--cluster-dns none`). */
  readonly clusterDns?: string;
  /** --ingress-http-port / --ingress-https-port: where Caddy listens on an ingress node (default 80/443). */
  readonly ingressHttpPort?: number;
  readonly ingressHttpsPort?: number;
}

export interface NodeAgentOptions {
  dataDir: string;
  join: JoinConfig;
  logger: Logger;
  settings: NodeAgentSettings;
  /** $PATH: where runtimes are found, what CNI plugins run with. */
  searchPath: string;
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
  const { dataDir, join: joined, logger, settings, searchPath } = options;
  const { hostPathRoots } = hostPathRootsOption(settings.hostPathRoot);
  if (settings.nodeIp !== undefined) checkNodeIp(settings.nodeIp);
  if (settings.ingressHttpPort !== undefined && settings.ingressHttpPort === settings.ingressHttpsPort) {
    throw new GroveError(ErrorCode.InvalidArgument, `--ingress-http-port and --ingress-https-port are both ${settings.ingressHttpPort}: Caddy cannot serve HTTP and HTTPS on one port`);
  }
  const local = await openLocalRuntime({ dataDir, logger, settings, searchPath });
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
  // The downward API's status.hostIP and the limits a container leaves unset (the node's capacity).
  const node = nodeCapacity(settings.nodeIp);
  const volumes = new PodVolumes({ dataDir, logger, config, node, ...(hostPathRoots ? { hostPathRoots } : {}) });
  // The cluster network (issue 15, docs/networking.md): the pods' network takes this node's pod
  // CIDR from the network view (pods wait for it), the overlay joins the nodes' pod subnets, the
  // proxier programs the Services, the DNS server answers the pods. Each programs from the view.
  const tag = netTag(dataDir);
  const podNetwork = agentPodNetwork(dataDir, undefined, logger, searchPath);
  const dns = settings.clusterDns ? await startDnsOrWarn(settings.clusterDns, tag, logger) : undefined;
  // Caddy is the agent's child: it stops with the agent and comes back with the view at start.
  const ingress = ingressConsumer({ nodeName: joined.node, tag, config, settings, logger });
  // Compose networks (docs/networking.md "Compose networking"): the node's compose pods, from the
  // agent's target and the addresses its last status reported (none yet: unknown), checked again with every status.
  const composeIsolation = new ComposeIsolation({ tag, pods: (): LocalPod[] | undefined => composePodsOf(agent.targetPods(), agent.status()?.pods), localPodSubnet: local.podNetwork.subnet, logger });
  const networkConsumers = [
    ...podNetworkConsumers({ dataDir, nodeName: joined.node, network: podNetwork, local: { bridge: local.podNetwork.bridge, ipamDataDir: local.podNetwork.ipamDataDir, podSubnet: local.podNetwork.subnet }, logger }),
    new ServiceProxier({ nodeName: joined.node, addresses: settings.nodeIp !== undefined ? [settings.nodeIp] : [], tag, logger }),
    ...(dns ? [dns] : []),
    ingress,
    composeIsolation,
  ];
  // Pod sandboxes: shared network (CNI), IPC and UTS namespaces and /etc/hosts per pod.
  const sandboxes = await openPodSandboxes(dataDir, podNetwork, logger, searchPath, dns);
  // Refuses to start on missing commits; quarantines corrupt entries (docs/reliability.md).
  const { store } = await openRoleStore({ role: 'agent', path: agentStorePath(dataDir), check: async () => agentEntryCheck }, logger);
  // The log of each pod container's previous instance, kept across its last restart (logs --previous).
  const previousLogs = new PreviousLogs(join(dataDir, 'agent', 'previous-logs'), logger);
  const runtime = new ContainerManagerRuntime({ containers: local.containers, images: local.images, logger, lockDirs: locks, config, volumes, sandboxes, previousLogs, node });
  const usage = new UsageSampler({ runtime, clock: systemClock() });
  const agent: Agent = new Agent({
    nodeName: joined.node,
    cluster: joined.cluster,
    store,
    runtime,
    usage: () => usage.sample(),
    locks,
    mqtt: { ...joined.mqtt, ...(joined.caCert ? { ca: joined.caCert } : {}) },
    logger,
    config,
    facts: factsProvider({
      dataDir,
      ociRuntime: local.runtimeName,
      cgroupVersion: local.host.cgroupVersion,
      agentVersion: packageVersion(),
      labels: { ...settings.label },
      ...(settings.nodeIp !== undefined ? { nodeIp: settings.nodeIp } : {}),
    }),
    heartbeatSeconds: settings.heartbeat / 1000,
    restartBackoffSeconds: settings.restartBackoff / 1000,
    lockMaxSeconds: settings.updateLockMax / 1000,
    networkConsumers,
    // No process runs when the node's compose pods and their addresses are as before.
    observeStatus: () => void composeIsolation.podsChanged().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'compose isolation not programmed')),
  });
  try {
    await agent.start();
  } catch (err) {
    // Opened above for its checks: a failed start must not leave it locked.
    await store.close().catch(() => undefined);
    await dns?.stop().catch(() => undefined);
    await ingress.cleanup().catch(() => undefined);
    throw err;
  }
  return {
    agent,
    // Routes, rules and the DNS address stay (offline autonomy); only the DNS sockets close.
    stop: async () => {
      await agent.stop();
      await dns?.stop().catch(() => undefined);
      await ingress.cleanup().catch(() => undefined);
    },
  };
}

/**
 * Cluster DNS that cannot start (the address taken by something else) leaves pods on the host's
 * resolvers, said once. Imported here, not at the top: an agent with `--cluster-dns none` never
 * loads the DNS server and its message library (test/unit/daemon-start-imports.test.ts).
 */
async function startDnsOrWarn(address: string, tag: string, logger: Logger): Promise<ClusterDns | undefined> {
  try {
    const { startClusterDns } = await import('../../../agent/src/agent/dns/cluster-dns.js');
    return await startClusterDns({ address, tag, logger });
  } catch (err) {
    logger.error({ err: errorMessage(err), address }, 'cluster DNS not started: pods use the host resolvers');
    return undefined;
  }
}

/**
 * Caddy for the Ingresses, started only once the view marks this node for ingress, with the TLS
 * Secrets the node's config bundle carries (docs/networking.md "Ingress").
 */
function ingressConsumer(o: { nodeName: string; tag: string; config: SecretSource; settings: NodeAgentSettings; logger: Logger }): IngressCaddy {
  const caddy = new CaddyProcess({ runDir: ingressRunDir(o.tag, SANDBOX_RUN_ROOT), clock: systemClock(), logger: o.logger });
  return new IngressCaddy({
    caddy,
    adminListen: caddy.adminListen,
    nodeName: o.nodeName,
    config: o.config,
    ...(o.settings.ingressHttpPort !== undefined ? { httpPort: o.settings.ingressHttpPort } : {}),
    ...(o.settings.ingressHttpsPort !== undefined ? { httpsPort: o.settings.ingressHttpsPort } : {}),
    logger: o.logger,
  });
}
