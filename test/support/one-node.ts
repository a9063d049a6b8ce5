import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, type ServerOptions } from './cluster.js';
import { buildBusyboxImage, pushImage } from './image-builder.js';
import { startRegistry, type TestRegistry } from './registry.js';

/** A registry holding test/busybox:1, a server and one Ready agent, and a scratch dir for manifests. */
export interface OneNodeCluster {
  registry: TestRegistry;
  cluster: TestCluster;
  scratch: string;
  destroy(): Promise<void>;
}

export async function startOneNodeCluster(scratchPrefix: string, node = 'node-a', options: ServerOptions = {}): Promise<OneNodeCluster> {
  const scratch = await mkdtemp(join(tmpdir(), scratchPrefix));
  const registry = await startRegistry();
  const cluster = await TestCluster.create(options);
  // Each step runs even when one before it fails, so nothing outlives a failed teardown.
  const destroy = async (): Promise<void> => {
    try {
      await cluster.destroy();
    } finally {
      try {
        await registry.stop();
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
  };
  try {
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    await cluster.startServer();
    await cluster.startAgent(node, { token: await cluster.token() });
    await cluster.waitForNodesReady([node]);
  } catch (err) {
    await destroy();
    throw err;
  }
  return { registry, cluster, scratch, destroy };
}
