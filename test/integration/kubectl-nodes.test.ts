/**
 * Nodes, cordon, eviction and events on a real two-node cluster (`grove server --tls`, two real
 * agents), read and driven by real kubectl through a kubeconfig (CA + admin token).
 *
 * On this branch kubectl reaches the paths with `--raw` (discovery, PATCH and field selectors are
 * other parts of issue 14); cordon goes through Grove's own PATCH /v1/nodes. The merged test adds
 * `kubectl get nodes -o wide`, `describe node|pod`, `cordon`, `drain --ignore-daemonsets`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, TestCluster, manifestFixture } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

interface Event {
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string; fieldPath?: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  source: { component: string; host?: string };
}
interface NodeJson {
  metadata: { name: string };
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status: {
    addresses?: { type: string; address: string }[];
    nodeInfo?: Record<string, string>;
    capacity?: Record<string, string>;
    conditions?: { type: string; status: string; lastHeartbeatTime?: string }[];
  };
}
interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: { nodeName?: string };
  status?: { phase?: string };
}

describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'kubectl: nodes, cordon, eviction and events', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  let kubectl: Kubectl;

  async function raw<T>(path: string): Promise<T> {
    const r = await kubectl('get', '--raw', path);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  }
  const pods = async () => (await raw<{ items: PodJson[] }>('/api/v1/namespaces/default/pods')).items;
  const events = async () => (await raw<{ items: Event[] }>('/api/v1/events')).items;
  const apply = async (fixture: string, replace: Record<string, string> = {}) => {
    const file = join(scratch, fixture);
    await writeFile(file, await manifestFixture(fixture, registry.host, { '["sleep", "3600"]': TERM_AWARE, ...replace }));
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-kubectl-nodes-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    cluster = await TestCluster.create({ extraArgs: ['--tls'] });
    await cluster.startServer();
    const token = await cluster.token();
    await cluster.startAgent('node-a', { token, labels: ['grove.io/role=sensor'] });
    await cluster.startAgent('node-b', { token, labels: ['grove.io/role=sensor'] });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    kubectl = kubectlWith(scratch, await writeKubeconfig(scratch, cluster.serverDir));
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('nodes are core/v1 Nodes: addresses, nodeInfo, capacity, Ready and pressure conditions; NodeReady events', async () => {
    const { items } = await raw<{ items: NodeJson[] }>('/api/v1/nodes');
    const a = items.find((n) => n.metadata.name === 'node-a')!;
    expect(a.status.addresses?.map((x) => x.type)).toContain('Hostname');
    expect(a.status.nodeInfo).toMatchObject({ operatingSystem: 'linux', architecture: expect.any(String), kernelVersion: expect.any(String), kubeletVersion: expect.any(String), containerRuntimeVersion: expect.any(String) });
    expect(Object.keys(a.status.capacity ?? {})).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods', 'ephemeral-storage']));
    expect(a.status.conditions?.map((c) => c.type)).toEqual(expect.arrayContaining(['Ready', 'MemoryPressure', 'DiskPressure']));
    expect(a.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const nodeEvents = (await events()).filter((e) => e.involvedObject.kind === 'Node');
    expect(nodeEvents.map((e) => `${e.involvedObject.name} ${e.reason}`)).toEqual(expect.arrayContaining(['node-a NodeReady', 'node-b NodeReady']));
  });

  it('a deployment records Scheduled, Created, Started, ScalingReplicaSet and SuccessfulCreate events', async () => {
    await apply('deployment-busybox.yaml', { 'replicas: 3': 'replicas: 2' });
    await apply('daemonset-labelled.yaml');
    await cluster.waitForRunning('busybox', 2);
    await cluster.waitForRunning('sensor-reader', 2);
    const first = (await pods()).find((p) => p.metadata.labels?.app === 'busybox')!;
    await eventually(async () => {
      const mine = (await events()).filter((e) => e.involvedObject.name === first.metadata.name).map((e) => e.reason);
      return ['Scheduled', 'Created', 'Started'].every((r) => mine.includes(r));
    }, 30_000, 'pod events');
    const reasons = (await events()).map((e) => `${e.involvedObject.kind} ${e.reason}`);
    expect(reasons).toEqual(expect.arrayContaining(['Deployment ScalingReplicaSet', 'ReplicaSet SuccessfulCreate', 'DaemonSet SuccessfulCreate']));
    const started = (await events()).find((e) => e.involvedObject.name === first.metadata.name && e.reason === 'Started')!;
    expect(started).toMatchObject({ type: 'Normal', source: { component: 'kubelet', host: first.spec.nodeName }, involvedObject: { fieldPath: 'spec.containers{busybox}' } });
  }, 120_000);

  it('cordon: the node is tainted, new pods go to the other node, the DaemonSet pod stays; eviction moves a pod; uncordon', async () => {
    const cordon = await cluster.grove(['node', 'cordon', 'node-a']);
    expect(cordon.code, cordon.stderr).toBe(0);
    await eventually(async () => (await raw<NodeJson>('/api/v1/nodes/node-a')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') === true, 15_000, 'cordon taint');
    // Evict every busybox pod on node-a, as drain does: each comes back on node-b.
    const onA = (await pods()).filter((p) => p.spec.nodeName === 'node-a' && p.metadata.labels?.app === 'busybox');
    expect(onA.length).toBeGreaterThan(0);
    for (const p of onA) {
      const body = join(scratch, `evict-${p.metadata.name}.json`);
      await writeFile(body, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: 'default' } }));
      const r = await kubectl('create', '--raw', `/api/v1/namespaces/default/pods/${p.metadata.name}/eviction`, '-f', body);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'Status', status: 'Success' });
    }
    const moved = await cluster.waitForRunning('busybox', 2);
    expect(moved.map((p) => p.node)).toEqual(['node-b', 'node-b']);
    expect((await pods()).filter((p) => p.metadata.labels?.app === 'sensor-reader').map((p) => p.spec.nodeName).sort()).toEqual(['node-a', 'node-b']);
    const reasons = (await events()).map((e) => `${e.involvedObject.name} ${e.reason}`);
    expect(reasons).toEqual(expect.arrayContaining([`${onA[0]!.metadata.name} Evicted`, 'node-a NodeNotSchedulable']));
    // A missing pod: 404 NotFound as a Status.
    const missing = await kubectl('create', '--raw', '/api/v1/namespaces/default/pods/nope/eviction', '-f', join(scratch, `evict-${onA[0]!.metadata.name}.json`));
    expect(missing.code).not.toBe(0);
    const uncordon = await cluster.grove(['node', 'uncordon', 'node-a']);
    expect(uncordon.code, uncordon.stderr).toBe(0);
    await eventually(async () => (await raw<NodeJson>('/api/v1/nodes/node-a')).spec?.taints === undefined, 15_000, 'taint removed');
  }, 120_000);

  it('deleting a pod: its ReplicaSet makes a new one', async () => {
    const before = (await pods()).filter((p) => p.metadata.labels?.app === 'busybox');
    const victim = before[0]!.metadata.name;
    const r = await kubectl('delete', '--raw', `/api/v1/namespaces/default/pods/${victim}`);
    expect(r.code, r.stderr).toBe(0);
    const after = await cluster.waitForRunning('busybox', 2);
    expect(after.map((p) => p.name)).not.toContain(victim);
  }, 90_000);
});
