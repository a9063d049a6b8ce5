import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { ImageStore } from '../../agent/src/images/image-store.js';
import { loadRegistriesConfig } from '../../agent/src/images/registries-config.js';
import { mountRootfs, unmountRootfs } from '../../agent/src/images/rootfs.js';
import { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { ContainerStore } from '../../agent/src/runtime/container-store.js';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import type { PodNetworkSettings } from '../../agent/src/runtime/cni/cni-config.js';
import { detectHost, type HostFacts } from '../../agent/src/runtime/host.js';
import { OciRuntime, detectOciRuntime } from '../../agent/src/runtime/oci-runtime.js';
import { loadLocalConfig, type LocalConfig } from './config.js';
import { shimPath } from './package-root.js';

export interface LocalRuntime {
  images: ImageStore;
  containers: ContainerManager;
  host: HostFacts;
  runtimeName: 'runc' | 'crun';
  /** podBridge / podSubnet of config.json, with the lease dir `grove ctr` uses (the agent's pods share them). */
  podNetwork: PodNetworkSettings;
}

export interface LocalRuntimeOptions {
  dataDir: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  runtime?: 'auto' | 'crun' | 'runc';
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
  const { dataDir, logger, env } = options;
  const config = await loadLocalConfig(dataDir);
  const images = await imageStoreFor(dataDir, logger, config);
  const host = await detectHost();
  const preferred = options.runtime ?? (env.GROVE_RUNTIME as LocalRuntimeOptions['runtime']) ?? config.runtime;
  const detected = await detectOciRuntime({ host, preferred, logger });
  const runtime = new OciRuntime({ path: detected.path, root: join(dataDir, 'run', detected.name), logger });
  const podNetwork: PodNetworkSettings = { bridge: config.podBridge, subnet: config.podSubnet, ipamDataDir: join(dataDir, 'cni', 'ipam') };
  const containers = new ContainerManager({
    store: new ContainerStore(dataDir),
    images,
    rootfs: { mount: mountRootfs, unmount: unmountRootfs },
    runtime,
    runtimeName: detected.name,
    host,
    shimPath: shimPath(env),
    logger,
    logMaxBytes: config.logMaxBytes,
    logMaxFiles: config.logMaxFiles,
    seccompDir: join(dataDir, 'seccomp'),
    network: new PodNetwork({
      settings: podNetwork,
      stateDir: join(dataDir, 'cni', 'attachments'),
      logger,
    }),
  });
  return { images, containers, host, runtimeName: detected.name, podNetwork };
}
