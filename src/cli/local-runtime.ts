import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { ImageStore } from '../../agent/src/images/image-store.js';
import { loadRegistriesConfig } from '../../agent/src/images/registries-config.js';
import { mountRootfs, unmountRootfs, type RootfsMode } from '../../agent/src/images/rootfs.js';
import { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { ContainerStore } from '../../agent/src/runtime/container-store.js';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import type { PodNetworkSettings } from '../../agent/src/runtime/cni/cni-config.js';
import { readNodePodSubnet } from '../../agent/src/runtime/cni/node-pod-subnet.js';
import { detectHost, type HostFacts } from '../../agent/src/runtime/host.js';
import { OciRuntime, detectOciRuntime } from '../../agent/src/runtime/oci-runtime.js';
import { loadLocalConfig, type LocalConfig } from './local-config.js';
import { shimPath } from './package-root.js';

export interface LocalRuntime {
  images: ImageStore;
  containers: ContainerManager;
  host: HostFacts;
  runtimeName: 'runc' | 'crun';
  /** podBridge / podSubnet of config.json, with the lease dir `grove ctr` uses (the agent's pods share them). */
  podNetwork: PodNetworkSettings;
}

/** How this node runs containers: RUNTIME_OPTIONS of src/cli/config/role-options.ts. */
export interface RuntimeSettings {
  /** --runtime; absent: config.json's runtime, else auto. */
  readonly runtime?: 'auto' | 'crun' | 'runc' | undefined;
  /** --shim; absent: the one beside the package. */
  readonly shim?: string | undefined;
  readonly rootfsMode: RootfsMode;
}

export interface LocalRuntimeOptions {
  dataDir: string;
  logger: Logger;
  settings: RuntimeSettings;
  /** $PATH: where runtimes are found, what CNI plugins run with. */
  searchPath: string;
}

/**
 * The node's own layout: images/, containers/, names/, run/ (OCI runtime state) under the data
 * dir; registries.json and the image settings of config.json (read here unless given).
 */
export async function imageStoreFor(dataDir: string, logger: Logger, config?: LocalConfig): Promise<ImageStore> {
  const { imageMaxUnpackedBytes, imageMinFreeBytes } = config ?? (await loadLocalConfig(dataDir));
  const registries = await loadRegistriesConfig(join(dataDir, 'registries.json'));
  const limits = {
    ...(imageMaxUnpackedBytes !== undefined ? { maxImageBytes: imageMaxUnpackedBytes } : {}),
    ...(imageMinFreeBytes !== undefined ? { minFreeBytes: imageMinFreeBytes } : {}),
  };
  return new ImageStore({ root: join(dataDir, 'images'), logger, registries, limits });
}

/** Assembles images + OCI runtime + shim for one data dir: what `grove ctr` and the agent drive. */
export async function openLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { dataDir, logger, settings, searchPath } = options;
  const config = await loadLocalConfig(dataDir);
  const images = await imageStoreFor(dataDir, logger, config);
  const host = await detectHost();
  const preferred = settings.runtime ?? config.runtime;
  const detected = await detectOciRuntime({ host, preferred, logger, searchPath });
  const runtime = new OciRuntime({ path: detected.path, root: join(dataDir, 'run', detected.name), logger });
  // On a cluster node, the agent's pod CIDR (and MTU): ctr containers share its bridge and leases.
  const nodeSubnet = await readNodePodSubnet(dataDir);
  const podNetwork: PodNetworkSettings = { bridge: config.podBridge, subnet: nodeSubnet?.subnet ?? config.podSubnet, ipamDataDir: join(dataDir, 'cni', 'ipam'), ...(nodeSubnet?.mtu !== undefined ? { mtu: nodeSubnet.mtu } : {}) };
  const containers = new ContainerManager({
    store: new ContainerStore(dataDir),
    images,
    rootfs: { mount: (o) => mountRootfs({ ...o, mode: settings.rootfsMode }), unmount: unmountRootfs },
    runtime,
    runtimeName: detected.name,
    host,
    shimPath: shimPath(settings.shim),
    logger,
    logMaxBytes: config.logMaxBytes,
    logMaxFiles: config.logMaxFiles,
    seccompDir: join(dataDir, 'seccomp'),
    network: new PodNetwork({
      settings: podNetwork,
      stateDir: join(dataDir, 'cni', 'attachments'),
      logger,
      searchPath,
    }),
  });
  return { images, containers, host, runtimeName: detected.name, podNetwork };
}
