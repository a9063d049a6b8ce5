/**
 * A pod's securityContext and lifecycle.preStop as the agent's runtime runs them under runc:
 * the user and group, a read-only root, capabilities dropped and added, privilege escalation
 * allowed — checked from inside the container (id, /proc/self/status); a preStop hook that ran
 * before the container got SIGTERM, and a failing one that did not keep it from stopping.
 * runtime-runc.test.ts covers the OCI driver alone; this goes through ContainerManagerRuntime
 * from schema-2 pod targets.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import { PodVolumes } from '../../agent/src/agent/volumes/pod-volumes.js';
import type { RuntimeLogLine } from '../../agent/src/agent/node-runtime.js';
import type { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { openLocalRuntime } from '../../src/cli/local-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import { PROBE_SCRIPT, eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { container, podTarget } from '../support/pod-target.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describeWith(['root', 'runc', 'registry', 'shim'], 'pod securityContext under runc (ContainerManagerRuntime)', () => {
  let dataDir = '';
  let registry: TestRegistry | undefined;
  let containers: ContainerManager | undefined;
  let runtime: ContainerManagerRuntime;
  let image = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-podsec-it-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    const local = await openLocalRuntime({ dataDir, logger: silentLogger(), settings: { runtime: 'runc', rootfsMode: 'auto' }, searchPath: process.env.PATH ?? '' });
    containers = local.containers;
    const volumes = new PodVolumes({ dataDir, logger: silentLogger() });
    runtime = new ContainerManagerRuntime({ containers, logger: silentLogger(), probeScript: PROBE_SCRIPT, volumes });
  }, 120_000);

  afterAll(async () => {
    for (const c of (await containers?.list({ all: true }).catch(() => [])) ?? []) await containers?.remove(c.id, { force: true }).catch(() => undefined);
    await registry?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function output(id: string): Promise<string[]> {
    const lines: RuntimeLogLine[] = [];
    for await (const l of runtime.logs(id)) lines.push(l);
    return lines.map((l) => l.text);
  }

  async function runToEnd(name: string, script: string, securityContext: Record<string, unknown>): Promise<string[]> {
    const pod = podTarget(`sec-${name}`, { policy: 'Never', containers: [container('main', { image, command: ['sh', '-c', script], securityContext })] });
    const started = await runtime.start(pod, pod.spec.containers[0]!);
    await eventually(async () => (await runtime.list()).find((c) => c.id === started.id && c.state === 'exited'), 30_000, `${name} to exit`);
    return output(started.id);
  }

  it('runs as runAsUser:runAsGroup with a read-only root, only the capabilities asked for, and no_new_privs off when escalation is allowed', async () => {
    const script = 'id -u; id -g; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; touch /probe 2>/dev/null && echo root-writable || echo root-read-only';
    const capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'CAP_KILL'] };
    const asRoot = await runToEnd('caps', script, { capabilities });
    // CAP_KILL is bit 5, CAP_NET_BIND_SERVICE bit 10.
    expect(asRoot).toEqual(['0', '0', 'CapEff:\t0000000000000420', 'CapBnd:\t0000000000000420', 'NoNewPrivs:\t1', 'root-writable']);
    const asUser = await runToEnd('user', script, { runAsUser: 1000, runAsGroup: 44, readOnlyRootFilesystem: true, capabilities, allowPrivilegeEscalation: true });
    // A non-root process keeps no effective capabilities across exec (no ambient set), as under
    // Kubernetes; its bounding set is still the one asked for.
    expect(asUser).toEqual(['1000', '44', 'CapEff:\t0000000000000000', 'CapBnd:\t0000000000000420', 'NoNewPrivs:\t0', 'root-read-only']);
  }, 60_000);

  it('keeps Docker\'s defaults and no_new_privs without a securityContext, and refuses runAsNonRoot for a root image', async () => {
    const out = await runToEnd('default', 'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status', {});
    expect(out).toEqual(['0', 'CapEff:\t00000000a80425fb', 'NoNewPrivs:\t1']);
    const pod = podTarget('sec-nonroot', { policy: 'Never', containers: [container('main', { image, command: ['true'], securityContext: { runAsNonRoot: true } })] });
    await expect(runtime.start(pod, pod.spec.containers[0]!)).rejects.toThrow(/runAsNonRoot is set and it would run as root/);
    expect((await runtime.list()).some((c) => c.name === 'sec-nonroot_main')).toBe(false);
  }, 60_000);

  it('runs the preStop hook before SIGTERM, within the grace, and stops the container even when the hook fails', async () => {
    const shared = await mkdtemp(join(dataDir, 'shared-'));
    const hooked = (name: string, hook: string) => {
      // The trap records SIGTERM and exits 0: a container killed by SIGKILL instead would exit 137.
      const main = `trap 'echo ${name}-sigterm >> /shared/events; exit 0' TERM; echo ${name}-started >> /shared/events; while true; do sleep 1; done`;
      const pod = podTarget(`hook-${name}`, {
        grace: 20,
        spec: { volumes: [{ name: 'shared', hostPath: { path: shared, type: 'Directory' } }] },
        containers: [container('main', { image, command: ['sh', '-c', main], volumeMounts: [{ name: 'shared', mountPath: '/shared' }], lifecycle: { preStop: { exec: { command: ['sh', '-c', hook] } } } })],
      });
      return { pod, c: pod.spec.containers[0]! };
    };
    const events = async () => (await readFile(join(shared, 'events'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const [name, hook] of [['good', 'echo good-prestop >> /shared/events; sleep 1'], ['failing', 'echo failing-prestop >> /shared/events; exit 3']] as const) {
      const { pod, c } = hooked(name, hook);
      const started = await runtime.start(pod, c);
      await eventually(async () => (await events()).includes(`${name}-started`), 20_000, `${name} to start`);
      await runtime.stop(started.id, 20);
      const view = (await runtime.list()).find((x) => x.id === started.id);
      expect(view).toMatchObject({ state: 'exited', exitCode: 0 });
    }
    expect(await events()).toEqual(['good-started', 'good-prestop', 'good-sigterm', 'failing-started', 'failing-prestop', 'failing-sigterm']);
  }, 90_000);
});
