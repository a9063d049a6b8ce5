/**
 * The agent end to end on this machine: LevelStore, real containers (runc + shim), a registry
 * with the busybox fixture, and an in-process MQTT broker standing in for the server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import { factsProvider } from '../../agent/src/agent/facts.js';
import type { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { openLocalRuntime } from '../../src/cli/local-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus, PodTarget } from '../../src/core/wire-types.js';
import { LevelStore } from '../../src/store/level-store.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describeWith(['root', 'runc', 'registry', 'shim'], 'agent end to end (LevelStore, runc, MQTT)', () => {
  const cluster = 'itest';
  const node = 'node-1';
  const topics = topicsFor(cluster, node);
  let dataDir: string;
  let registry: TestRegistry | undefined;
  let containers: ContainerManager | undefined;
  let broker: TestBroker | undefined;
  let observer: MqttClient | undefined;
  const statuses: NodeStatus[] = [];
  const agents: Agent[] = [];
  let image: string;

  const pod = (name: string): PodTarget => ({
    name,
    app: 'web',
    templateHash: 'tpl1',
    restartPolicy: 'Always',
    hostNetwork: false,
    containers: [{ name: 'main', image, command: ['sh', '-c', 'echo up; exec sleep 3600'], env: [{ name: 'POD', value: name }], resources: { memoryBytes: 32 * 1024 * 1024 } }],
  });

  const makeAgent = (url: string): Agent => {
    const agent = new Agent({
      nodeName: node,
      cluster,
      store: new LevelStore({ path: join(dataDir, 'agent', 'store') }),
      runtime: new ContainerManagerRuntime({ containers: containers as ContainerManager, logger: silentLogger() }),
      mqtt: { url, username: 'n', password: 'p' },
      logger: silentLogger(),
      facts: factsProvider({ dataDir, ociRuntime: 'runc', cgroupVersion: 1, agentVersion: 'test' }),
      pollSeconds: 1,
      stopGraceSeconds: 1,
      reconnectSeconds: 0.5,
    });
    agents.push(agent);
    return agent;
  };

  const running = async () =>
    (await (containers as ContainerManager).list({ all: true })).filter((c) => c.state === 'running').map((c) => ({ id: c.id, name: c.name })).sort((a, b) => a.name.localeCompare(b.name));

  const publish = (revision: number, pods: PodTarget[]) =>
    (observer as MqttClient).publishAsync(topics.target, encodeMessage(makeNodeTarget({ cluster, node, revision, pods, issuedAt: new Date().toISOString() })), { qos: 1, retain: true });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-agent-it-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    containers = (await openLocalRuntime({ dataDir, logger: silentLogger(), settings: { runtime: 'runc', rootfsMode: 'auto' }, searchPath: process.env.PATH ?? '' })).containers;
    broker = await startTestBroker();
    observer = connect(broker.url, { clientId: 'itest-observer' });
    observer.on('message', (topic, payload) => {
      if (topic === topics.status) statuses.push(decodeNodeStatus(payload));
    });
    await observer.subscribeAsync(topics.status, { qos: 1 });
  });

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    await observer?.endAsync(true).catch(() => undefined);
    if (broker) await stopBroker();
    for (const c of (await containers?.list({ all: true }).catch(() => [])) ?? []) {
      await containers?.remove(c.id, { force: true }).catch(() => undefined);
    }
    await registry?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function stopBroker(): Promise<void> {
    const b = broker;
    broker = undefined;
    await b?.stop();
  }

  let idsAfterUpdate: { id: string; name: string }[] = [];
  let brokerUrl = '';

  it('runs the pods of a published target and reports them Running', async () => {
    brokerUrl = (broker as NonNullable<typeof broker>).url;
    const agent = makeAgent(brokerUrl);
    await agent.start();
    await publish(1, [pod('web-a'), pod('web-b')]);
    const names = await eventually(async () => {
      const r = await running();
      return r.length === 2 ? r.map((c) => c.name) : undefined;
    }, 60_000, 'two running containers');
    expect(names).toEqual(['web-a_main', 'web-b_main']);
    const status = await eventually(
      async () => statuses.find((s) => s.observedRevision === 1 && s.pods.length === 2 && s.pods.every((p) => p.phase === 'Running' && p.ready)),
      20_000,
      'a Running status',
    );
    expect(status.facts.ociRuntime).toBe('runc');
    expect(status.pods[0]?.containers[0]?.imageDigest).toMatch(/^sha256:/);
  });

  it('removes the pod a newer target drops', async () => {
    await publish(2, [pod('web-a')]);
    idsAfterUpdate = await eventually(async () => {
      const all = await (containers as ContainerManager).list({ all: true });
      return all.length === 1 && all[0]?.state === 'running' ? running() : undefined;
    }, 30_000, 'web-b to be removed');
    expect(idsAfterUpdate.map((c) => c.name)).toEqual(['web-a_main']);
    await eventually(async () => statuses.find((s) => s.observedRevision === 2 && s.pods.length === 1), 20_000, 'the revision 2 status');
  });

  it('after a restart with no broker, leaves running containers alone and still reconciles from its store', async () => {
    await (agents[0] as Agent).stop();
    expect(await running()).toEqual(idsAfterUpdate); // stopping the agent stops no container
    await stopBroker();

    const agent = makeAgent(brokerUrl);
    await agent.start();
    await agent.idle();
    await agent.reconcileNow();
    expect(agent.connected).toBe(false);
    expect(agent.appliedRevision()).toBe(2);
    expect(agent.status()).toMatchObject({ observedRevision: 2, pods: [{ name: 'web-a', phase: 'Running', ready: true }] });
    expect(await running()).toEqual(idsAfterUpdate); // same ids: untouched

    // Offline, the loop still works: a container that dies is replaced.
    await (containers as ContainerManager).stop(idsAfterUpdate[0]!.id, 0);
    const replaced = await eventually(async () => {
      const r = await running();
      return r.length === 1 && r[0]!.id !== idsAfterUpdate[0]!.id ? r[0] : undefined;
    }, 30_000, 'the container to be restarted');
    expect(replaced.name).toBe('web-a_main');
    expect((await (containers as ContainerManager).find(replaced.id)).spec.labels['grove.restarts']).toBe('1');
  });
});
