/**
 * An agent joined to a server from before the cluster network (docs/networking.md "An agent
 * joined to an older server"): such a server sends schema-2 node targets without
 * `networkView: true` and never publishes grove/v1/<cluster>/network/#. A real `grove agent`
 * process (runc containers, its own pod bridge) is connected to an MQTT broker that plays that
 * server byte for byte — targets as its target publisher made them, nothing on the network
 * topics. Its pod must start on the node's own subnet (config.json podSubnet) with one warning,
 * instead of waiting for a pod CIDR that never comes. Then the server "is upgraded": the
 * network view arrives with a block for the node, and a new pod takes an address from that
 * block while the first keeps its own.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { joinConfigPath } from '../../agent/src/agent/join-client.js';
import { egressNames } from '../../agent/src/runtime/net/pod-egress.js';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { networkTopics, topicsFor } from '../../src/core/topics.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import { encodeNetworkCluster } from '../../src/core/wire-network.js';
import { makeNodeTarget2 } from '../../src/core/wire-target.js';
import { WIRE_SCHEMA, type NodeStatus } from '../../src/core/wire-types.js';
import { killAndWait, removeNodeLeftovers } from '../support/cluster.js';
import { eventually, spawnGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { assignPodNetwork, type TestPodNetwork } from '../support/pod-network.js';
import { container, podTarget, type WirePodTarget } from '../support/pod-target.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const run = promisify(execFile);

describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables'], 'an agent of an older server (no network view)', () => {
  const cluster = `old${randomBytes(3).toString('hex')}`;
  const node = 'node-old';
  const topics = topicsFor(cluster, node);
  let dataDir = '';
  let registry: TestRegistry | undefined;
  let broker: TestBroker | undefined;
  let server: MqttClient | undefined;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  let local: TestPodNetwork;
  let image = '';
  const statuses: NodeStatus[] = [];

  const pod = (name: string): WirePodTarget => podTarget(name, { app: 'web', containers: [container('main', { image, command: ['sh', '-c', 'exec sleep 3600'] })] });

  /** A target exactly as the server publishes it; an older server leaves `networkView` out. */
  const publishTarget = (revision: number, pods: WirePodTarget[], networkView: boolean) =>
    server!.publishAsync(topics.target, encodeMessage(makeNodeTarget2({ cluster, node, revision, pods, issuedAt: new Date().toISOString(), networkView })), { qos: 1, retain: true });

  const runningIP = (revision: number, name: string) =>
    eventually(async () => {
      const p = statuses.find((s) => s.observedRevision >= revision && s.pods.some((q) => q.name === name && q.phase === 'Running' && q.podIP))?.pods.find((q) => q.name === name);
      return p?.podIP;
    }, 60_000, `pod ${name} Running with an address (agent log: ${agentLog.slice(-2000)})`);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-oldsrv-'));
    local = await assignPodNetwork(dataDir);
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    broker = await startTestBroker();
    server = connect(broker.url, { clientId: `${cluster}-server` });
    server.on('message', (topic, payload) => {
      if (topic === topics.status) statuses.push(decodeNodeStatus(payload));
    });
    await server.subscribeAsync(topics.status, { qos: 1 });
    // The node's stored join (what `grove agent --server --token` writes): no join over HTTP.
    await mkdir(join(dataDir, 'agent'), { recursive: true });
    await writeFile(joinConfigPath(dataDir), JSON.stringify({
      cluster,
      node,
      serverUrl: 'http://127.0.0.1:9',
      mqtt: { url: broker.url, username: node, password: 'p' },
      configKey: randomBytes(32).toString('base64'),
      joinedAt: new Date().toISOString(),
    }));
  }, 120_000);

  afterAll(async () => {
    await killAndWait(agent, 'SIGKILL');
    await server?.endAsync(true).catch(() => undefined);
    await broker?.stop();
    await registry?.stop();
    if (dataDir) {
      await removeNodeLeftovers(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('starts pods on the node\'s own subnet at once, with one warning', async () => {
    await publishTarget(1, [pod('web-a')], false);
    agent = spawnGrove(['--data-dir', dataDir, 'agent', '--node-name', node]);
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    const ip = await runningIP(1, 'web-a');
    expect(ip).toMatch(new RegExp(`^${local.prefix.replaceAll('.', '\\.')}\\.`));
    expect(agentLog.match(/publishes no cluster network view/g)).toHaveLength(1);
    expect(agentLog).not.toMatch(/network not ready/);
  }, 120_000);

  it('takes the node\'s block once the upgraded server publishes the view; earlier pods keep their address', async () => {
    const firstIP = statuses.at(-1)!.pods.find((p) => p.name === 'web-a')!.podIP!;
    // A block of its own, outside 10.200-249.x where test agents' own subnets come from.
    const second = 150 + randomInt(50);
    const block = `10.${second}.${randomInt(1, 255)}.0/24`;
    const clusterCIDR = `10.${second}.0.0/16`;
    // The node's InternalIP: the host's address towards the outside (the pods' MTU is its link's).
    const internalIP = /\bsrc (\S+)/.exec((await run('ip', ['-4', 'route', 'get', '1.1.1.1'])).stdout)?.[1] ?? '127.0.0.1';
    await server!.publishAsync(networkTopics(cluster).cluster, encodeNetworkCluster({
      schema: WIRE_SCHEMA,
      revision: 1,
      clusterCIDR,
      serviceCIDR: '10.43.0.0/16',
      clusterDomain: 'cluster.local',
      overlay: { backend: 'host-gw', vni: 1, port: 8472 },
      nodes: [{ name: node, internalIP, podCIDR: block }],
      services: {},
    }), { qos: 1, retain: true });
    // The node has taken the view once its egress rules for the block are in (pod-egress.ts).
    const egress = egressNames(netTag(dataDir)).nat;
    await eventually(async () => (await run('iptables-save', ['-t', 'nat'])).stdout.includes(`-A ${egress} -s ${block}`), 20_000, `${egress} for ${block}`);
    await publishTarget(2, [pod('web-a'), pod('web-b')], true);
    const ip = await runningIP(2, 'web-b');
    expect(ip).toMatch(new RegExp(`^${block.split('.').slice(0, 3).join('\\.')}\\.`));
    const latest = statuses.at(-1)!;
    expect(latest.pods.find((p) => p.name === 'web-a')?.podIP).toBe(firstIP);
  }, 120_000);
});
