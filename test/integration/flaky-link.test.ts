import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, TestCluster, manifestFixture } from '../support/cluster.js';
import { runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { startDelayRelay, type DelayRelay } from '../support/delay-relay.js';
import { httpRoundTrips, createNetnsLink, type NetnsLink } from '../support/netns.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * A flaky link (docs/reliability.md): the agent sits in a network namespace whose veth drops 2 %
 * of packets and delays each by 200 ms in both directions (tc netem), with the defaults a real
 * node has — node grace 40 s, heartbeat 15 s, MQTT keepalive 30 s. For GROVE_NETEM_SECONDS
 * (300 by default and in CI) the test reads the Node object from the API every second (its Ready
 * condition, and the last heartbeat as lastHeartbeatTime) and counts Ready → NotReady
 * transitions: there must be none, neither seen by the polls nor logged by the server (which
 * also catches a flip shorter than a poll, e.g. a presence offline and back).
 *
 * The server listens on loopback; the agent reaches it through a relay on the host end of the
 * veth. With sch_netem the relay adds nothing and netem does the damage; on a kernel without it
 * iptables drops 2 % of the packets each way and the relay holds each chunk 200 ms each way.
 */
const NODE = 'flaky-node';

/** The part of a Node object this test reads. */
interface NodeObject {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] };
}
const NETEM_SECONDS = Number(process.env.GROVE_NETEM_SECONDS ?? '300');

describeWith(['root', 'runc', 'registry', 'shim', 'iproute2'], 'flaky link (2% loss, 200 ms delay)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let link: NetnsLink;
  let relay: DelayRelay;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-flaky-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    link = await createNetnsLink('flk');
    // No --node-grace: the default 40 s is what is being tested.
    cluster = await TestCluster.create({ extraArgs: ['--advertise-addr', link.hostIp] });
    await cluster.startServer();
    relay = await startDelayRelay(link.hostIp, [cluster.apiPort, cluster.mqttPort]);
    const dir = await cluster.createAgentDir(NODE);
    const pulled = await runGrove(['--data-dir', dir, 'ctr', 'pull', `${registry.host}/test/busybox:1`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    // env replaces TEST_ENV: the agent keeps its default 15 s heartbeat.
    await cluster.startAgent(NODE, { token: await cluster.token(), serverUrl: `http://${link.hostIp}:${cluster.apiPort}`, prefix: link.netOnly, env: { GROVE_LOG_LEVEL: 'info' } });
    await cluster.waitForNodesReady([NODE]);
    const text = await manifestFixture('deployment-busybox.yaml', registry.host, { '["sleep", "3600"]': TERM_AWARE, 'replicas: 3': 'replicas: 1' });
    await writeFile(join(scratch, 'busybox.yaml'), text);
    expect((await cluster.grove(['apply', '-f', join(scratch, 'busybox.yaml')])).code).toBe(0);
    await cluster.waitForRunning('busybox', 1, 120_000);
  }, 240_000);

  afterAll(async () => {
    try {
      await cluster?.destroy();
    } finally {
      await relay?.close();
      await link?.destroy();
      await registry?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  it(`stays Ready for ${NETEM_SECONDS} s with 2% loss and 200 ms delay on the agent's link`, async () => {
    let method: string;
    if (await link.netemAvailable()) {
      await link.netem(['delay', '200ms', 'loss', '2%']);
      method = 'tc netem on both ends';
    } else {
      await link.dropRandom(2);
      relay.delayMs = 200;
      method = 'no sch_netem in this kernel: iptables statistic 2% drop each way + 200 ms relay delay each way';
    }
    console.log(`[figure] flaky link impairment: ${method}`);
    const rtt = await httpRoundTrips(link, cluster.apiPort, 20);
    console.log(`[figure] flaky link: HTTP round trip (new connection) from the node to the server API, 20 tries: median ${rtt.median} ms, max ${rtt.max} ms, failed ${rtt.failed}`);
    const logMark = cluster.agents.get(NODE)!.log.length;

    const serverLogMark = cluster.serverLog.length;

    let falseNotReady = 0;
    let polls = 0;
    let pollErrors = 0;
    let wasReady = true;
    let lastStatusAt: string | undefined;
    const statusGaps: number[] = [];
    const end = Date.now() + NETEM_SECONDS * 1000;
    while (Date.now() < end) {
      const tick = Date.now();
      const node = await cluster.apiGet<NodeObject>(`/api/v1/nodes/${NODE}`).catch(() => undefined);
      polls += 1;
      const condition = node?.status?.conditions?.find((c) => c.type === 'Ready');
      if (!condition) {
        pollErrors += 1;
      } else {
        const ready = condition.status === 'True';
        // The last status the server heard, as the Node carries it (1 s resolution).
        const heartbeat = condition.lastHeartbeatTime;
        if (wasReady && !ready) {
          falseNotReady += 1;
          console.log(`[flaky] ${NODE} NotReady at ${new Date().toISOString()} (last heartbeat ${heartbeat})`);
        }
        wasReady = ready;
        if (heartbeat && heartbeat !== lastStatusAt) {
          if (lastStatusAt) statusGaps.push((Date.parse(heartbeat) - Date.parse(lastStatusAt)) / 1000);
          lastStatusAt = heartbeat;
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
    }

    const reconnects = cluster.agents.get(NODE)!.log.slice(logMark).split('\n').filter((l) => l.includes('connected to broker')).length;
    // Every readiness flip the server made, however short (a presence offline flips at once).
    const flipsLogged = cluster.serverLog.slice(serverLogMark).split('\n').filter((l) => l.includes('node is NotReady') && l.includes(NODE)).length;
    const maxGap = statusGaps.length ? Math.max(...statusGaps) : NaN;
    const meanGap = statusGaps.length ? statusGaps.reduce((a, b) => a + b, 0) / statusGaps.length : NaN;
    console.log(
      `[figure] flaky link ${NETEM_SECONDS} s: false NotReady ${falseNotReady} (server logged ${flipsLogged}), agent reconnects ${reconnects}, ` +
        `statuses ${statusGaps.length + 1}, gap between statuses mean ${meanGap.toFixed(1)} s max ${maxGap.toFixed(1)} s (grace 40 s), polls ${polls} (${pollErrors} failed)`,
    );
    expect(pollErrors).toBeLessThan(polls / 10);
    expect(statusGaps.length).toBeGreaterThan(0);
    expect(falseNotReady).toBe(0);
    expect(flipsLogged).toBe(0);
    // Containers carried on untouched.
    expect((await cluster.pods('busybox')).every((p) => p.phase === 'Running' && p.restarts === 0)).toBe(true);
  }, NETEM_SECONDS * 1000 + 120_000);
});
