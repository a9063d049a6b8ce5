import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topicsFor } from '../../src/core/topics.js';
import { TERM_AWARE, TestCluster, manifestFixture } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';


/**
 * The cluster end to end: a real `grove server` (embedded broker, LevelDB) and two `grove agent`
 * processes joined by token, real registry, real containers.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'cluster (server + two agents, embedded broker)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const manifest = async (fixture: string, replace: Record<string, string> = {}) => {
    const text = await manifestFixture(fixture, registry.host, { '["sleep", "3600"]': TERM_AWARE, '["sleep", "3601"]': TERM_AWARE, 'sleep 3600': `sh -c "trap 'exit 0' TERM; while true; do sleep 1; done"`, ...replace });
    const file = join(scratch, fixture);
    await writeFile(file, text);
    return file;
  };
  const apply = async (file: string) => {
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  /** Every workload as kind/name@generation: a refused apply creates none and changes no spec. */
  const workloads = async () => {
    const { items } = await cluster.json<{ items: { kind: string; metadata: { name: string; generation?: number } }[] }>(['get', 'deploy,ds,jobs,cronjobs']);
    return items.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.generation ?? 0}`).sort();
  };
  const runningOn = async () => {
    const a = await cluster.runningContainers('node-a');
    const b = await cluster.runningContainers('node-b');
    return { a, b, all: [...a, ...b] };
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-cluster-manifests-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    cluster = await TestCluster.create();
    await cluster.startServer();
    const token = await cluster.token();
    await cluster.startAgent('node-a', { token, labels: ['zone=a'] });
    await cluster.startAgent('node-b', { token, labels: ['zone=b'] });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  });

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs 3 replicas over both nodes, scales to 1, and deletes to none', async () => {
    const file = await manifest('deployment-busybox.yaml');
    expect((await apply(file)).stdout).toContain('deployment.apps/busybox created');
    const pods = await cluster.waitForRunning('busybox', 3);
    expect(new Set(pods.map((p) => p.node))).toEqual(new Set(['node-a', 'node-b']));
    await eventually(async () => (await runningOn()).all.length === 3, 30_000, '3 containers');

    await apply(await manifest('deployment-busybox.yaml', { 'replicas: 3': 'replicas: 1' }));
    await cluster.waitForRunning('busybox', 1);
    await eventually(async () => (await runningOn()).all.length === 1, 30_000, '1 container');

    const deleted = await cluster.grove(['delete', 'deployment', 'busybox']);
    expect(deleted.stdout).toContain('deployment.apps "busybox" deleted');
    await eventually(async () => (await cluster.pods('busybox')).length === 0, 30_000, 'no pods');
    await eventually(async () => (await cluster.containers('node-a')).length + (await cluster.containers('node-b')).length === 0, 30_000, 'no containers');
  });

  it('runs a DaemonSet only on labelled nodes and follows label changes', async () => {
    await apply(await manifest('daemonset-labelled.yaml'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cluster.pods('sensor-reader')).toHaveLength(0);

    expect((await cluster.grove(['node', 'label', 'node-a', 'grove.io/role=sensor'])).code).toBe(0);
    const one = await cluster.waitForRunning('sensor-reader', 1);
    expect(one[0]!.node).toBe('node-a');
    const node = await cluster.grove(['describe', 'node', 'node-a']);
    expect(node.stdout).toMatch(/^\s+Ready\s+True\b/m);
    expect(node.stdout).toContain('grove.io/role=sensor');
    expect(node.stdout).toContain(one[0]!.name);
    // Found as a DaemonSet (describe daemonset would say NotFound for any other kind).
    const ds = await cluster.grove(['describe', 'daemonset', 'sensor-reader']);
    expect(ds.code, ds.stderr).toBe(0);
    expect(ds.stdout).toMatch(/^Name:\s+sensor-reader$/m);
    expect(ds.stdout).toMatch(/^Node-Selector:\s+grove.io\/role=sensor$/m);

    await cluster.grove(['node', 'label', 'node-b', 'grove.io/role=sensor']);
    await cluster.waitForRunning('sensor-reader', 2);

    await cluster.grove(['node', 'label', 'node-a', 'grove.io/role-']);
    const left = await cluster.waitForRunning('sensor-reader', 1);
    expect(left[0]!.node).toBe('node-b');
    expect((await cluster.grove(['delete', 'daemonset', 'sensor-reader'])).stdout).toContain('daemonset.apps "sensor-reader" deleted');
    await eventually(async () => (await cluster.pods('sensor-reader')).length === 0, 30_000, 'daemonset gone');
    await eventually(async () => !(await runningOn()).all.some((c) => c.name.startsWith('sensor-reader-')), 30_000, 'daemonset containers gone');
  });

  it('runs a DaemonSet selecting kubernetes.io/os: linux on every node; nodes show the well-known labels', async () => {
    await apply(await manifest('daemonset-labelled.yaml', { 'grove.io/role: sensor': 'kubernetes.io/os: linux', 'sensor-reader': 'os-reader' }));
    const pods = await cluster.waitForRunning('os-reader', 2);
    expect(new Set(pods.map((p) => p.node))).toEqual(new Set(['node-a', 'node-b']));
    const node = await cluster.grove(['describe', 'node', 'node-b']);
    expect(node.stdout).toContain('kubernetes.io/hostname=node-b');
    expect(node.stdout).toContain('kubernetes.io/os=linux');
    expect(node.stdout).toMatch(/kubernetes\.io\/arch=(amd64|arm64|arm)\b/);
    // zone=b was given at the first join: it labels the node; the agent reports nothing else.
    expect(node.stdout).toContain('zone=b');
    expect((await cluster.grove(['delete', 'daemonset', 'os-reader'])).stdout).toContain('daemonset.apps "os-reader" deleted');
    await eventually(async () => (await cluster.pods('os-reader')).length === 0, 30_000, 'os-reader gone');
    await eventually(async () => !(await runningOn()).all.some((c) => c.name.startsWith('os-reader-')), 30_000, 'os-reader containers gone');
  });

  it('runs both services of a compose file', async () => {
    const r = await apply(await manifest('compose-two-services.yaml'));
    expect(r.stdout).toContain('deployment.apps/web created');
    expect(r.stdout).toContain('deployment.apps/worker created');
    await cluster.waitForRunning('web', 1);
    await cluster.waitForRunning('worker', 1);
  });

  it('fetches logs from the nodes over MQTT', async () => {
    const file = await manifest('deployment-busybox.yaml', {
      'name: busybox\n  labels': 'name: chatty\n  labels',
      'app: busybox': 'app: chatty',
      'replicas: 3': 'replicas: 2',
      [TERM_AWARE]: `["sh", "-c", "echo hello from $HOSTNAME; echo oops >&2; trap 'exit 0' TERM; while true; do sleep 1; done"]`,
    });
    await apply(file);
    const pods = await cluster.waitForRunning('chatty', 2);
    const logs = await eventually(async () => {
      const r = await cluster.grove(['logs', 'chatty', '--prefix']);
      return r.code === 0 && r.stdout.split('\n').filter((l) => l.includes('hello from')).length === 2 ? r : undefined;
    }, 20_000, 'logs of both pods');
    for (const pod of pods) expect(logs.stdout).toContain(`[pod/${pod.name}/busybox] hello from`);
    expect(logs.stderr).toContain('oops');
    const one = await cluster.grove(['logs', `pod/${pods[0]!.name}`, '--tail', '1']);
    expect(one.stderr.trim()).toBe('oops');
    await cluster.grove(['delete', '-f', file]);
    await eventually(async () => (await cluster.pods('chatty')).length === 0, 30_000, 'chatty deleted');
    // Pods leave the API at once; their containers stop a moment later. Later tests count them.
    await eventually(async () => !(await runningOn()).all.some((c) => c.name.startsWith('chatty-')), 30_000, 'chatty containers gone');
  });

  it('keeps every container when the server is killed -9 and restarted', async () => {
    const before = (await runningOn()).all.map((c) => `${c.id}@${c.startedAt}`).sort();
    expect(before.length).toBeGreaterThanOrEqual(2);
    await cluster.killServer('SIGKILL');
    await cluster.startServer();
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    await cluster.waitForRunning('web', 1);
    await cluster.waitForRunning('worker', 1);
    const after = (await runningOn()).all.map((c) => `${c.id}@${c.startedAt}`).sort();
    expect(after).toEqual(before);
    const pods = await cluster.pods();
    expect(pods.every((p) => p.restarts === 0)).toBe(true);
  });

  it('re-adopts containers when an agent is killed -9 and restarted with the broker down', async () => {
    const before = (await cluster.runningContainers('node-a')).map((c) => c.id).sort();
    const beforeB = (await cluster.runningContainers('node-b')).map((c) => c.id).sort();
    await cluster.killServer('SIGKILL'); // the embedded broker goes with it
    await cluster.killAgent('node-a', 'SIGKILL');
    await cluster.startAgent('node-a'); // no token: stored join, no server needed
    await new Promise((r) => setTimeout(r, 3000));
    expect((await cluster.runningContainers('node-a')).map((c) => c.id).sort()).toEqual(before);
    await cluster.startServer();
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    await cluster.waitForRunning('web', 1);
    await cluster.waitForRunning('worker', 1);
    expect((await cluster.runningContainers('node-a')).map((c) => c.id).sort()).toEqual(before);
    expect((await cluster.runningContainers('node-b')).map((c) => c.id).sort()).toEqual(beforeB);
  });

  it("refuses wrong and expired tokens, and a node's credentials reach only its own topics", async () => {
    const bogus = await cluster.grove(['--data-dir', join(scratch, 'intruder'), 'agent', '--server', cluster.apiUrl, '--token', 'grove1.insecure.deadbeef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--node-name', 'intruder']);
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr).toMatch(/join token/);
    const short = await cluster.token('1s');
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await cluster.grove(['--data-dir', join(scratch, 'late'), 'agent', '--server', cluster.apiUrl, '--token', short, '--node-name', 'late']);
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toMatch(/join token/);
    expect([...(await cluster.nodesReady()).keys()].sort()).toEqual(['node-a', 'node-b']);

    // node-a's own credentials, used directly against the broker.
    const creds = (await cluster.joinConfig('node-a')).mqtt;
    const client = await mqtt.connectAsync(creds.url, { username: creds.username, password: creds.password, reconnectPeriod: 0 });
    try {
      const seen: string[] = [];
      client.on('message', (topic) => seen.push(topic));
      const b = topicsFor('default', 'node-b');
      // The broker refuses the subscription (granted QoS 128, which mqtt.js turns into an error).
      const refused = await client.subscribeAsync(b.target, { qos: 1 }).then((grants) => grants[0]?.qos === 128, () => true);
      expect(refused).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      expect(seen).toEqual([]); // node-b's retained target never reaches node-a
      await client.publishAsync(b.status, 'forged').catch(() => undefined);
    } finally {
      await client.endAsync(true).catch(() => undefined);
    }
    // The forged status did not change node-b's view, and the server still sees it Ready.
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  });

  it('rejects bad manifests with one clear line and stores nothing', async () => {
    const before = await workloads();
    expect(before.some((w) => w.startsWith('Deployment/web@')), before.join(' ')).toBe(true);
    const cases: [string, string, RegExp][] = [
      ['malformed.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n   bad: indent\n', /malformed\.yaml:\d+/],
      ['unknown-kind.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n', /unknown-kind\.yaml.*Service/],
      ['wrong-type.yaml', (await manifestFixture('deployment-busybox.yaml', registry.host)).replace('replicas: 3', 'replicas: three'), /wrong-type\.yaml.*replicas/],
      ['unsupported.yaml', (await manifestFixture('deployment-busybox.yaml', registry.host)).replace('          resources:', '          volumeMounts:\n            - {name: data, mountPath: /data}\n          resources:'), /unsupported\.yaml.*volumeMounts\[0\]\.name: no volume named "data"/],
    ];
    for (const [name, text, pattern] of cases) {
      const file = join(scratch, name);
      await writeFile(file, text);
      const r = await cluster.grove(['apply', '-f', file]);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(pattern);
    }
    expect(await workloads()).toEqual(before);
  });
});
