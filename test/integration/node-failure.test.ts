import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, TestCluster, manifestFixture } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Node failure end to end (docs/reliability.md): a real server with a 3 s node grace and a 5 s
 * eviction timeout, two real agents heartbeating every second. One agent is killed with
 * SIGKILL (its containers keep running, as after a crash of the agent alone or a cut link),
 * then started again. The seconds each step took are printed: the docs quote them.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'node failure (grace, eviction, return)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const apply = async (fixture: string, replace: Record<string, string>) => {
    const text = await manifestFixture(fixture, registry.host, { '["sleep", "3600"]': TERM_AWARE, ...replace });
    const file = join(scratch, `${Object.values(replace).join('-').replace(/\W+/g, '_')}-${fixture}`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const notReady = async (name: string) => (await cluster.nodesReady()).get(name) === false;
  /** The node's Ready condition, from its Node object. */
  const readyCondition = async (name: string) => {
    const node = await cluster.json<{ status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] } }>(['get', 'node', name]);
    return node.status?.conditions?.find((c) => c.type === 'Ready');
  };
  const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-node-failure-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    cluster = await TestCluster.create({ extraArgs: ['--node-grace', '3s', '--eviction-timeout', '5s'] });
    await cluster.startServer();
    const token = await cluster.token();
    await cluster.startAgent('node-a', { token, labels: ['grove.io/role=sensor'] });
    await cluster.startAgent('node-b', { token, labels: ['grove.io/role=sensor'] });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('marks a killed agent NotReady, moves its Deployment pods, keeps its DaemonSet pod, and cleans up on return', async () => {
    await apply('deployment-busybox.yaml', { 'replicas: 3': 'replicas: 2' });
    await apply('daemonset-labelled.yaml', {});
    const before = await cluster.waitForRunning('busybox', 2);
    expect(new Set(before.map((p) => p.node))).toEqual(new Set(['node-a', 'node-b']));
    const sensors = await cluster.waitForRunning('sensor-reader', 2);
    await eventually(async () => (await cluster.runningContainers('node-a')).length === 2 && (await cluster.runningContainers('node-b')).length === 2, 30_000, '2 containers per node');
    const onA = before.find((p) => p.node === 'node-a')!;
    const sensorA = sensors.find((p) => p.node === 'node-a')!;
    const bBefore = await cluster.runningContainers('node-b');
    const aBefore = await cluster.runningContainers('node-a');

    const killedAt = Date.now();
    await cluster.killAgent('node-a', 'SIGKILL');
    await eventually(() => notReady('node-a'), 30_000, 'node-a NotReady');
    const notReadyAfter = seconds(killedAt);
    console.log(`node-a NotReady ${notReadyAfter}s after SIGKILL (grace 3s, heartbeat 1s)`);
    expect(notReadyAfter).toBeLessThan(3 + 1 + 2);
    const status = await cluster.grove(['get', 'nodes']);
    expect(status.stdout).toMatch(/node-a\s+NotReady/);
    // Since when: the Ready condition's transition time, in the object and in describe's Conditions.
    const condition = await readyCondition('node-a');
    expect(condition).toMatchObject({ status: 'False', reason: 'NodeStatusUnknown' });
    expect(Date.parse(condition!.lastTransitionTime!)).toBeGreaterThanOrEqual(Math.floor(killedAt / 1000) * 1000);
    expect(Date.parse(condition!.lastTransitionTime!)).toBeLessThanOrEqual(Date.now());
    expect((await cluster.grove(['describe', 'node', 'node-a'])).stdout).toMatch(/^\s+Ready\s+False\s+\w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000\s+\w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000\s+NodeStatusUnknown\s/m);
    const notReadyAt = Date.now();

    const moved = await eventually(async () => {
      const pods = await cluster.pods('busybox');
      return pods.length === 2 && pods.every((p) => p.node === 'node-b' && p.phase === 'Running') ? pods : undefined;
    }, 60_000, 'busybox pods moved to node-b');
    console.log(`Deployment pod moved to node-b ${seconds(notReadyAt)}s after NotReady was seen, ${seconds(killedAt)}s after SIGKILL (eviction timeout 5s)`);
    expect(moved.map((p) => p.name)).not.toContain(onA.name);
    expect((await cluster.pods('sensor-reader')).map((p) => `${p.name}@${p.node}`).sort()).toEqual(sensors.map((p) => `${p.name}@${p.node}`).sort());
    // Nobody removed anything on node-a: its agent is dead, its containers run on.
    expect((await cluster.runningContainers('node-a')).map((c) => c.id).sort()).toEqual(aBefore.map((c) => c.id).sort());

    const restartedAt = Date.now();
    await cluster.startAgent('node-a');
    await cluster.waitForNodesReady(['node-a']);
    await eventually(async () => {
      const running = await cluster.runningContainers('node-a');
      return running.length === 1 && running[0]!.name.startsWith(sensorA.name);
    }, 60_000, "node-a's evicted busybox container removed");
    console.log(`evicted copy removed from node-a ${seconds(restartedAt)}s after its agent restarted`);
    // The DaemonSet container on node-a and everything on node-b ran through it all untouched.
    expect((await cluster.runningContainers('node-a')).map((c) => [c.id, c.startedAt])).toEqual(aBefore.filter((c) => c.name.startsWith(sensorA.name)).map((c) => [c.id, c.startedAt]));
    const bAfter = await cluster.runningContainers('node-b');
    for (const c of bBefore) expect(bAfter).toContainEqual(expect.objectContaining({ id: c.id, startedAt: c.startedAt }));
    expect(bAfter).toHaveLength(3);
    expect((await cluster.pods('busybox')).map((p) => p.name).sort()).toEqual(moved.map((p) => p.name).sort());
  }, 240_000);

  it('marks a frozen agent (connection open, no heartbeats) NotReady after the grace', async () => {
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    // SIGSTOP keeps the TCP connection open, so no Last Will: only the grace can notice.
    const proc = cluster.agents.get('node-a')!.proc!;
    const frozenAt = Date.now();
    proc.kill('SIGSTOP');
    try {
      await eventually(() => notReady('node-a'), 30_000, 'node-a NotReady');
      const after = seconds(frozenAt);
      console.log(`frozen node-a NotReady ${after}s after SIGSTOP (grace 3s, heartbeat 1s)`);
      expect(after).toBeGreaterThanOrEqual(2);
      expect(after).toBeLessThan(3 + 1 + 2);
    } finally {
      proc.kill('SIGCONT');
    }
    const thawedAt = Date.now();
    await cluster.waitForNodesReady(['node-a']);
    console.log(`node-a Ready again ${seconds(thawedAt)}s after SIGCONT`);
    // Only the DaemonSet pod was left there, and DaemonSet pods never move.
    expect((await cluster.pods('sensor-reader')).filter((p) => p.node === 'node-a')).toHaveLength(1);
  }, 60_000);
});
