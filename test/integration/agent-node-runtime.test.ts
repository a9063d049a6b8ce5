import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import type { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { openLocalRuntime } from '../../src/cli/local-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Container } from '../../src/core/objects/pod-container.js';
import { nodeRuntimeContract } from '../contract/node-runtime.contract.js';
import { PROBE_SCRIPT, eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assignPodNetwork, teardownAgentNetwork } from '../support/pod-network.js';
import { openPodSandboxes } from '../../agent/src/runtime/pod-sandbox-setup.js';

describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables'], 'ContainerManagerRuntime: NodeRuntime contract (runc)', () => {
  nodeRuntimeContract(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'grove-agent-rt-'));
    let registry: TestRegistry | undefined;
    let containers: ContainerManager | undefined;
    const cleanup = async (): Promise<void> => {
      for (const c of (await containers?.list({ all: true }).catch(() => [])) ?? []) {
        await containers?.remove(c.id, { force: true }).catch(() => undefined);
      }
      await registry?.stop();
      await teardownAgentNetwork(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    };
    try {
      registry = await startRegistry();
      await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
      await assignPodNetwork(dataDir);
      const local = await openLocalRuntime({ dataDir, logger: silentLogger(), settings: { runtime: 'runc', rootfsMode: 'auto' }, searchPath: process.env.PATH ?? '' });
      containers = local.containers;
      const sandboxes = await openPodSandboxes(dataDir, local.podNetwork, silentLogger());
      const image = `${registry.host}/test/busybox:1`;
      const script = (lines: string[], tail: string): Container['command'] => [
        'sh',
        '-c',
        `${lines.map((l) => `echo ${l};`).join(' ')} ${tail}`,
      ];
      const target = (name: string, command: string[]): Container => ({ name, image, command, resources: { limits: { memory: '32Mi' } } });
      const runtime = new ContainerManagerRuntime({ containers, logger: silentLogger(), probeScript: PROBE_SCRIPT, sandboxes });
      const cm = containers;
      return {
        runtime,
        longRunning: (name, lines) => target(name, script(lines, 'exec sleep 3600') as string[]),
        exiting: (name, lines, code) => target(name, script(lines, `exit ${code}`) as string[]),
        listening: (name, port) => target(name, ['sh', '-c', `mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p ${port} -h /www`]),
        createUnmanaged: async (name) => {
          await cm.run({ image, name, args: ['sleep', '3600'], pullMissing: true });
        },
        eventually: (check, what) => eventually(check, 20_000, what),
        cleanup,
      };
    } catch (err) {
      await cleanup();
      throw err;
    }
  });
});
