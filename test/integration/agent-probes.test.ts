/**
 * Probes end to end on this machine: the Agent (LevelStore, MQTT through an in-process aedes,
 * real containers with runc + shim) gets a target with probes over the wire and reports
 * readiness and probe restarts back in its NodeStatus.
 */
import { existsSync } from 'node:fs';
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
import type { Probe, ProbeHandler } from '../../src/core/resolved-pod.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus, PodTarget } from '../../src/core/wire-types.js';
import { LevelStore } from '../../src/store/level-store.js';
import { eventually, PROBE_SCRIPT } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';


const probe = (handler: ProbeHandler, extra: Partial<Probe> = {}): Probe =>
  ({ ...handler, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 2, successThreshold: 1, ...extra }) as Probe;

describeWith(['root', 'runc', 'registry', 'shim'], 'probes end to end (Agent, LevelStore, runc, MQTT)', () => {
  const cluster = 'itest';
  const node = 'node-1';
  const topics = topicsFor(cluster, node);
  let dataDir: string;
  let registry: TestRegistry | undefined;
  let containers: ContainerManager | undefined;
  let broker: TestBroker | undefined;
  let observer: MqttClient | undefined;
  let agent: Agent | undefined;
  let image: string;
  const statuses: NodeStatus[] = [];
  const podStatus = (name: string) => statuses[statuses.length - 1]?.pods.find((p) => p.name === name);

  beforeAll(async () => {
    if (!existsSync(PROBE_SCRIPT)) throw new Error(`${PROBE_SCRIPT} is missing: run npm run build first`);
    dataDir = await mkdtemp(join(tmpdir(), 'grove-probes-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    containers = (await openLocalRuntime({ dataDir, logger: silentLogger(), settings: { runtime: 'runc', rootfsMode: 'auto' }, searchPath: process.env.PATH ?? '' })).containers;
    broker = await startTestBroker();
    const url = broker.url;
    observer = connect(url, { clientId: 'itest-observer' });
    observer.on('message', (topic, payload) => {
      if (topic === topics.status) statuses.push(decodeNodeStatus(payload));
    });
    await observer.subscribeAsync(topics.status, { qos: 1 });
    agent = new Agent({
      nodeName: node,
      cluster,
      store: new LevelStore({ path: join(dataDir, 'agent', 'store') }),
      runtime: new ContainerManagerRuntime({ containers, logger: silentLogger(), probeScript: PROBE_SCRIPT }),
      mqtt: { url, username: 'n', password: 'p' },
      logger: silentLogger(),
      facts: factsProvider({ dataDir, ociRuntime: 'runc', cgroupVersion: 1, agentVersion: 'test' }),
      pollSeconds: 1,
      stopGraceSeconds: 1,
      reconnectSeconds: 0.5,
    });
    await agent.start();
  }, 120_000);

  afterAll(async () => {
    await agent?.stop().catch(() => undefined);
    await observer?.endAsync(true).catch(() => undefined);
    await broker?.stop();
    for (const c of (await containers?.list({ all: true }).catch(() => [])) ?? []) {
      await containers?.remove(c.id, { force: true }).catch(() => undefined);
    }
    await registry?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  const pod = (name: string, command: string[], probes: PodTarget['containers'][number]['probes']): PodTarget => ({
    name,
    app: name,
    templateHash: 'h1',
    restartPolicy: 'Always',
    hostNetwork: false,
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'main', image, command, env: [], resources: { memoryBytes: 32 * 1024 * 1024 }, ...(probes ? { probes } : {}) }],
  });

  it('exec readiness flips ready, an exec liveness failure restarts, httpGet and tcpSocket work in the container netns', async () => {
    const live = pod('live', ['sh', '-c', 'touch /tmp/healthy; exec sleep 3600'], {
      liveness: probe({ exec: { command: ['test', '-f', '/tmp/healthy'] } }),
      readiness: probe({ exec: { command: ['test', '-f', '/tmp/ready'] } }),
    });
    const web = pod('web', ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'], {
      readiness: probe({ httpGet: { path: '/index.html', port: 8080 } }),
      liveness: probe({ tcpSocket: { port: 8080 } }, { failureThreshold: 5 }),
    });
    const target = makeNodeTarget({ cluster, node, revision: 1, pods: [live, web], issuedAt: new Date().toISOString() });
    await observer!.publishAsync(topics.target, encodeMessage(target), { qos: 1, retain: true });
    const first = await eventually(async () => (await containers!.list()).find((c) => c.name === 'live_main'), 60_000, 'live running');
    await eventually(async () => podStatus('live')?.phase === 'Running', 20_000, 'live reported Running');
    expect(podStatus('live')).toMatchObject({ ready: false, containers: [{ state: 'running', ready: false }] });

    await eventually(async () => podStatus('web')?.ready === true, 30_000, 'web ready through httpGet in its own netns');
    expect(podStatus('web')!.containers[0]).toMatchObject({ state: 'running', ready: true, restarts: 0 });

    await containers!.exec(first.id, ['touch', '/tmp/ready'], { timeoutMs: 5000 });
    await eventually(async () => podStatus('live')?.ready === true, 20_000, 'live ready');

    await containers!.exec(first.id, ['rm', '/tmp/healthy'], { timeoutMs: 5000 });
    await eventually(
      async () => {
        const c = podStatus('live')?.containers[0];
        return c?.state === 'running' && c.restarts === 1 ? c : undefined;
      },
      60_000,
      'live restarted by its liveness probe',
    );
    const now = (await containers!.list()).find((c) => c.name === 'live_main');
    expect(now?.id).not.toBe(first.id);
    // The web pod stayed healthy all along.
    expect(podStatus('web')!.containers[0]).toMatchObject({ state: 'running', ready: true, restarts: 0 });
  }, 180_000);
});
