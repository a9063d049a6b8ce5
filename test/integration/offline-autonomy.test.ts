import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, TestCluster, manifestFixture, type CtrInspect } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { createNetnsLink, type NetnsLink } from '../support/netns.js';
import { leftoverCgroups, removeCgroup, simulateReboot } from '../support/node-reboot.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Offline autonomy (docs/reliability.md): a real server on the host, a real agent inside a
 * network namespace behind a veth pair, real runc containers. iptables inside the namespace cuts
 * the agent off from the broker and the API; then the agent is killed and restarted, the host
 * "rebooted" (every shim and container SIGKILLed, mounts, cgroups and runtime state gone), a
 * container exits, and the target changes on the server — all while offline. On reconnect
 * nothing may restart and the newer target must be applied. Each step prints its figure.
 */
const NODE = 'off-node';

describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables'], 'offline autonomy (agent in a netns, broker blocked)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let link: NetnsLink;
  let scratch: string;
  let image: string;
  const seenIds = new Set<string>();

  const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;
  const agentLog = () => cluster.agents.get(NODE)?.log ?? '';
  const apply = async (replicas: number) => {
    const text = await manifestFixture('deployment-busybox.yaml', registry.host, { '["sleep", "3600"]': TERM_AWARE, 'replicas: 3': `replicas: ${replicas}` });
    const file = join(scratch, `busybox-${replicas}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const startAgent = (token?: string) =>
    cluster.startAgent(NODE, {
      ...(token ? { token, serverUrl: `http://${link.hostIp}:${cluster.apiPort}` } : {}),
      prefix: link.netOnly,
      // Debug: the test counts the agent's "status sent" lines after the reconnect.
      env: { GROVE_HEARTBEAT: '1s', GROVE_LOG_LEVEL: 'debug' },
    });
  const running = async () => {
    const list = await cluster.runningContainers(NODE);
    for (const c of list) seenIds.add(c.id);
    return list;
  };
  /** Waits until `count` containers run, one per pod, and returns them with the seconds it took from `since`. */
  const waitRunning = async (count: number, since: number, timeoutMs = 120_000) => {
    const list = await eventually(async () => {
      const r = await running();
      return r.length === count && new Set(r.map((c) => c.labels['grove.pod'])).size === count ? r : undefined;
    }, timeoutMs, `${count} running containers on ${NODE}`);
    return { list, secs: seconds(since) };
  };
  const nodeReady = async () => (await cluster.nodesReady()).get(NODE);
  const byPod = (list: CtrInspect[]) => Object.fromEntries(list.map((c) => [c.labels['grove.pod'], `${c.id}@${c.startedAt}`]));

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-offline-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    link = await createNetnsLink('off');
    // The API and the broker listen on every address so the agent reaches them over the veth.
    cluster = await TestCluster.create({ bindHost: '0.0.0.0', extraArgs: ['--advertise-addr', link.hostIp, '--node-grace', '5s'] });
    await cluster.startServer();
    // The registry listens on the host's loopback, out of the namespace's reach: the image is
    // stored on the node beforehand, as it would be on a node that pulled it while online.
    const dir = await cluster.createAgentDir(NODE);
    const pulled = await runGrove(['--data-dir', dir, 'ctr', 'pull', image]);
    expect(pulled.code, pulled.stderr).toBe(0);
    await startAgent(await cluster.token());
    await cluster.waitForNodesReady([NODE]);
  }, 240_000);

  afterAll(async () => {
    try {
      await cluster?.destroy();
    } finally {
      await link?.destroy();
      await registry?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
    // Containers removed after a wiped runtime state leave their cgroup behind (a real reboot
    // has none left): clear ours, then make sure nothing of this run remains.
    for (const id of seenIds) await removeCgroup(`/grove/${id}`);
    expect(await leftoverCgroups([...seenIds])).toEqual([]);
  }, 120_000);

  it('restores every desired container while offline, restarts none on reconnect, then applies the newer target', async () => {
    await apply(3);
    await cluster.waitForRunning('busybox', 3, 120_000);
    const online = (await waitRunning(3, Date.now())).list;

    // Cut off: the agent's SYNs and segments to the broker and the API are dropped in its namespace.
    await link.block([cluster.mqttPort, cluster.apiPort]);
    const cutAt = Date.now();
    await eventually(async () => (await nodeReady()) === false, 60_000, `${NODE} NotReady`);
    console.log(`[figure] broker blocked -> ${NODE} NotReady: ${seconds(cutAt)} s (grace 5 s)`);

    // Case A: the agent alone dies and comes back, still offline. Its containers never stopped.
    await cluster.killAgent(NODE, 'SIGKILL');
    const restartA = Date.now();
    await startAgent();
    await new Promise((r) => setTimeout(r, 7000)); // more than one poll (5 s): time to do damage
    const afterA = await running();
    expect(byPod(afterA)).toEqual(byPod(online));
    console.log(`[figure] offline agent restart: ${afterA.length}/3 containers running, 0 restarted (checked ${seconds(restartA)} s after restart)`);

    // Case B: a reboot, twice: runtime state kept (it is under the data dir) and wiped (a tmpfs).
    for (const wipeRuntimeState of [false, true]) {
      const before = await running();
      await cluster.killAgent(NODE, 'SIGKILL');
      await simulateReboot(cluster.agentDir(NODE), before, { wipeRuntimeState });
      expect(await running()).toEqual([]);
      const bootAt = Date.now();
      await startAgent();
      const { list, secs } = await waitRunning(3, bootAt);
      expect(list.map((c) => c.id).filter((id) => before.some((b) => b.id === id))).toEqual([]);
      console.log(`[figure] offline reboot (runtime state ${wipeRuntimeState ? 'wiped' : 'kept'}) restore: ${secs} s, ${list.length}/3 containers running`);
      // Nothing of the dead instances is left behind.
      const all = await cluster.containers(NODE);
      expect(all.filter((c) => c.state !== 'running')).toEqual([]);
    }

    // A container that exits while offline is restarted per its restartPolicy (Always).
    const beforeExit = await running();
    const victim = beforeExit[0]!;
    const exitAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    const restarted = await eventually(async () => {
      const r = await running();
      const again = r.find((c) => c.labels['grove.pod'] === victim.labels['grove.pod']);
      return r.length === 3 && again && again.id !== victim.id ? again : undefined;
    }, 120_000, 'the killed container restarted');
    expect(restarted.labels['grove.restarts']).toBe(String(Number(victim.labels['grove.restarts'] ?? '0') + 1));
    // Its second exit in a row for this agent (the reboot was the first): back-off 20 s, plus up to one 5 s poll.
    console.log(`[figure] container killed offline -> restarted: ${seconds(exitAt)} s (restartPolicy Always, back-off 20 s: 2nd exit in a row counting the reboot)`);

    // A newer target while the node is away: scale down to 2. The node still runs 3.
    const beforeReconnect = await running();
    await apply(2);
    await eventually(async () => (await cluster.pods('busybox')).length === 2, 30_000, '2 busybox pods on the server');
    const kept = (await cluster.pods('busybox')).map((p) => p.name);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await running()).toHaveLength(3);

    const logMark = agentLog().length;
    await link.unblock();
    const unblockedAt = Date.now();
    await eventually(async () => (await nodeReady()) === true, 90_000, `${NODE} Ready again`);
    const readyAfter = seconds(unblockedAt);
    const after = (await waitRunning(2, unblockedAt)).list;
    const appliedAfter = seconds(unblockedAt);
    // The two pods that stayed run in the very same containers: nothing restarted.
    const unchanged = Object.entries(byPod(beforeReconnect)).filter(([pod]) => kept.includes(pod));
    expect(byPod(after)).toEqual(Object.fromEntries(unchanged));
    const restartsOnReconnect = after.filter((c) => !beforeReconnect.some((b) => b.id === c.id && b.startedAt === c.startedAt)).length;
    expect(restartsOnReconnect).toBe(0);
    await cluster.waitForRunning('busybox', 2, 60_000);

    // Statuses after the reconnect: one on connect, then one per real change (the removal), not
    // one per change made while offline. Heartbeats are not counted.
    await new Promise((r) => setTimeout(r, 3000));
    const since = agentLog().slice(logMark);
    const connected = since.indexOf('connected to broker');
    expect(connected).toBeGreaterThanOrEqual(0);
    const statuses = since.slice(connected).split('\n').filter((l) => l.includes('"status sent"') && l.includes('"heartbeat":false'));
    console.log(`[figure] reconnect: node Ready ${readyAfter} s after unblock, newer target applied ${appliedAfter} s after unblock, ${restartsOnReconnect} containers restarted, ${statuses.length} non-heartbeat statuses sent`);
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    expect(statuses.length).toBeLessThanOrEqual(4);
  }, 600_000);
});
