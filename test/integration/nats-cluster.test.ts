/**
 * Grove on a clustered broker: a three-member NATS cluster (Debian's nats-server, MQTT enabled
 * on every member), `grove server --mqtt-url <all three> --broker-credentials`, and hollow nodes
 * handed all three URLs. One member is killed mid-run: every node that was on it reconnects to
 * another member, and a DaemonSet change still converges on every node. Correctness only.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HollowFleet } from '../../agent/src/hollow/hollow-fleet.js';
import { silentLogger } from '../../src/core/logger.js';
import { TestCluster } from '../support/cluster.js';
import { applyYaml, hollowDaemonSet } from '../support/hollow.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { describeWith } from '../support/prereq.js';

const NODES = 30;
const APP = 'hollow-nats';

describeWith(['nats-server'], 'hollow fleet on a three-member NATS cluster', () => {
  let nats: NatsCluster | undefined;
  let cluster: TestCluster | undefined;
  let fleet: HollowFleet | undefined;

  beforeAll(async () => {
    nats = await startNatsCluster({ members: 3 });
    cluster = await TestCluster.create({ extraArgs: ['--mqtt-url', nats.mqttUrls.join(','), '--broker-credentials', nats.credentialsFile] });
    await cluster.startServer();
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await cluster?.destroy();
    await nats?.stop();
  }, 120_000);

  it('hands out every member, survives losing one, and converges on every node', async () => {
    fleet = new HollowFleet({
      serverUrl: cluster!.apiUrl,
      token: await cluster!.token(),
      count: NODES,
      logger: silentLogger(),
      heartbeatSeconds: 5,
      reconnectSeconds: 1,
    });
    const joins = await fleet.joinAndStart();
    expect(joins.filter((j) => j.error)).toEqual([]);
    // The server handed every node all three members.
    for (const node of fleet.nodes) expect(node.brokerUrls).toEqual(nats!.mqttUrls);
    await cluster!.waitForNodesReady(fleet.nodes.map((n) => n.name), 120_000);

    await applyYaml(cluster!.serverDir, hollowDaemonSet(APP, 'v1'));
    const v1 = await fleet.waitForApp(APP, undefined, 120_000);

    // A crash, not a shutdown, of the member the server is on: the server and the nodes there
    // lose their connection at once and must resubscribe on another member (NATS refuses QoS 1
    // subscriptions for a while after losing a member; the server must still hear every node).
    const serverMember = await nats!.memberOf('grove-server');
    expect(serverMember).toBeDefined();
    await nats!.kill(serverMember!);
    const deadline = Date.now() + 30_000;
    while (fleet.connectedCount() === NODES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lowest = fleet.connectedCount();
    expect(lowest).toBeLessThan(NODES);

    await applyYaml(cluster!.serverDir, hollowDaemonSet(APP, 'v2'));
    const v2 = await fleet.waitForApp(APP, v1, 180_000);
    expect(v2).not.toBe(v1);
    expect(fleet.connectedCount()).toBe(NODES);
    await cluster!.waitForRunning(APP, NODES, 120_000).catch((err: Error) => {
      // A rare CI failure here left nothing to read: keep what the server and brokers said.
      const serverLines = cluster!.serverLog.split('\n').filter((l) => /MQTT|WARN|ERROR|"level":[45]0/i.test(l)).slice(-30);
      const brokers = nats!.members.map((m) => `--- ${m.name} ---\n${m.log.split('\n').slice(-15).join('\n')}`);
      throw new Error(`${err.message}\n--- server ---\n${serverLines.join('\n')}\n${brokers.join('\n')}`, { cause: err });
    });
  }, 600_000);
});
