import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, type PodJson, type TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { freePort } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';

/**
 * Pods no node can take, through a one-node cluster: an unsatisfiable nodeSelector leaves the
 * pod Pending with Kubernetes' FailedScheduling reason in `grove get pods` and `describe
 * deployment|pod`
 * (never sent to the node), `grove logs` says so in one line and exits 1, and the same pod is
 * placed and runs once the node is labelled; extra replicas claiming one hostPort stay Pending.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'Pending pods and FailedScheduling (real cluster)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  const tag = randomBytes(3).toString('hex');

  const deployment = (name: string, replicas: number, extra: { nodeSelector?: string; ports?: string } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
${extra.nodeSelector ? `      nodeSelector: ${extra.nodeSelector}\n` : ''}      containers:
        - name: main
          image: ${env!.registry.host}/test/busybox:1
          command: ${TERM_AWARE}
${extra.ports ? `          ports: ${extra.ports}\n` : ''}`;
  const apply = async (name: string, text: string) => {
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pendingPods = (pods: PodJson[]) => pods.filter((p) => p.phase === 'Pending' && p.node === undefined);

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pending-cluster-', 'node-a');
    cluster = env.cluster;
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('shows an unsatisfiable nodeSelector as Pending + FailedScheduling, and places the pod once the node is labelled', async () => {
    const app = `cam-${tag}`;
    const reason = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector";
    await apply(app, deployment(app, 1, { nodeSelector: `{ camera-${tag}: "yes" }` }));
    const [pod] = await eventually(async () => {
      const pods = await cluster.pods(app);
      return pods.length === 1 && pendingPods(pods).length === 1 ? pods : undefined;
    }, 30_000, 'one Pending pod');
    expect(pod).toMatchObject({ phase: 'Pending', unschedulable: reason });

    // IP and NODE <none> (then NOMINATED NODE and READINESS GATES, which Grove never has).
    const table = await cluster.grove(['get', 'pods', '-l', `app=${app}`, '-o', 'wide']);
    expect(table.stdout).toMatch(new RegExp(`^${pod!.name}\\s+0/1\\s+Pending\\s+0\\s+\\S+\\s+<none>\\s+<none>\\s+<none>\\s+<none>$`, 'm'));
    const described = await cluster.grove(['describe', 'deployment', app]);
    expect(described.stdout).toMatch(new RegExp(`^  FailedScheduling:\\s+${escape(reason)} \\(1 pod Pending\\)$`, 'm'));
    const describedPod = await cluster.grove(['describe', 'pod', pod!.name]);
    expect(describedPod.stdout).toMatch(/^Node:\s+<none>$/m);
    expect(describedPod.stdout).toMatch(/^Status:\s+Pending$/m);
    expect(describedPod.stdout).toMatch(new RegExp(`^  FailedScheduling:\\s+${escape(reason)}$`, 'm'));
    // Never sent to the node.
    expect((await cluster.containers('node-a')).filter((c) => c.name.startsWith(app))).toEqual([]);

    const logs = await cluster.grove(['logs', app]);
    expect(logs.code).toBe(1);
    expect(logs.stdout).toBe('');
    expect(logs.stderr.trim()).toBe(`grove: pod ${pod!.name} has no container yet (Pending: ${reason})`);
    expect(logs.stderr + logs.stdout).not.toContain('undefined');
    const one = await cluster.grove(['logs', `pod/${pod!.name}`]);
    expect(one.code).toBe(1);
    expect(one.stderr.trim()).toBe(`grove: pod ${pod!.name} has no container yet (Pending: ${reason})`);

    expect((await cluster.grove(['node', 'label', 'node-a', `camera-${tag}=yes`])).code).toBe(0);
    const [running] = await cluster.waitForRunning(app, 1, 120_000);
    expect(running!.name).toBe(pod!.name);
    expect(running!.node).toBe('node-a');
    const placed = await cluster.grove(['describe', 'deployment', app]);
    expect(placed.code, placed.stderr).toBe(0);
    expect(placed.stdout).not.toContain('FailedScheduling');
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
  }, 240_000);

  it('leaves extra replicas claiming one hostPort Pending, not failing on the node', async () => {
    const app = `port-${tag}`;
    const port = await freePort();
    await apply(app, deployment(app, 3, { ports: `[{ containerPort: 8080, hostPort: ${port} }]` }));
    const pods = await eventually(async () => {
      const all = await cluster.pods(app);
      return all.length === 3 && all.filter((p) => p.phase === 'Running').length === 1 && pendingPods(all).length === 2 ? all : undefined;
    }, 120_000, 'one pod Running and two Pending');
    for (const p of pendingPods(pods)) expect(p).toMatchObject({ unschedulable: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports" });
    // No CreateError anywhere: the node only ever got the one pod.
    expect(pods.flatMap((p) => p.containers.map((c) => c.reason ?? ''))).not.toContain('CreateError');
    expect(new Set((await cluster.containers('node-a')).filter((c) => c.name.startsWith(app)).map((c) => c.labels['grove.pod']))).toEqual(new Set([pods.find((p) => p.phase === 'Running')!.name]));
    const logs = await cluster.grove(['logs', app]);
    expect(logs.code).toBe(1);
    expect(logs.stderr.trim().split('\n')).toHaveLength(2);
    expect(logs.stderr).not.toContain('undefined');
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
  }, 240_000);
});
