/**
 * 50 hollow nodes (the real agent code over the in-memory runtime) against a real `grove server`
 * with its embedded broker: all join at once, a DaemonSet reaches every node, and a change to it
 * converges on every node. Correctness only: timeouts are generous, speed is the bench's job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HollowFleet } from '../../agent/src/hollow/hollow-fleet.js';
import { silentLogger } from '../../src/core/logger.js';
import { TestCluster, type PodJson } from '../support/cluster.js';
import { applyYaml, hollowDaemonSet } from '../support/hollow.js';

const NODES = 50;
const APP = 'hollow-ds';

describe('hollow fleet on the embedded broker', () => {
  let cluster: TestCluster;
  let fleet: HollowFleet | undefined;

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.startServer();
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await cluster?.destroy();
  }, 60_000);

  it('joins 50 nodes at once and converges a DaemonSet change on every node', async () => {
    fleet = new HollowFleet({ serverUrl: cluster.apiUrl, token: await cluster.token(), count: NODES, logger: silentLogger(), heartbeatSeconds: 5 });
    const joins = await fleet.joinAndStart();
    expect(joins.filter((j) => j.error)).toEqual([]);
    await cluster.waitForNodesReady(fleet.nodes.map((n) => n.name), 120_000);

    await applyYaml(cluster.serverDir, hollowDaemonSet(APP, 'v1'));
    const v1 = await fleet.waitForApp(APP, undefined, 120_000);

    await applyYaml(cluster.serverDir, hollowDaemonSet(APP, 'v2'));
    const v2 = await fleet.waitForApp(APP, v1, 120_000);
    expect(v2).not.toBe(v1);

    // The server agrees: one Running pod per hollow node, all at the new template.
    const pods = await cluster.waitForRunning(APP, NODES, 120_000);
    expect(new Set(pods.map((p: PodJson) => p.node))).toEqual(new Set(fleet.nodes.map((n) => n.name)));
    for (const node of fleet.nodes) {
      const running = (await node.runtime.list()).filter((c) => c.state === 'running');
      expect(running.map((c) => c.image)).toEqual([`hollow.invalid/${APP}:v2`]);
    }
  }, 300_000);
});
