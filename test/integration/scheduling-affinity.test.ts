import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, type TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Affinity through a two-node cluster with real containers: required pod anti-affinity on
 * kubernetes.io/hostname puts two replicas on two nodes (a third stays Pending with the
 * FailedScheduling words), and required node affinity with matchExpressions keeps every
 * replica on the labelled node.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'scheduling: affinity over two nodes (real cluster)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  const tag = randomBytes(3).toString('hex');

  const deployment = (name: string, replicas: number, affinity: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector:
    matchExpressions: [{ key: app, operator: In, values: [${name}] }]
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
${affinity}
      containers:
        - name: main
          image: ${env!.registry.host}/test/busybox:1
          command: ${TERM_AWARE}
`;
  const apply = async (name: string, text: string) => {
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-affinity-cluster-', 'node-a');
    cluster = env.cluster;
    await cluster.startAgent('node-b', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  }, 300_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('required anti-affinity on the hostname spreads 2 replicas over 2 nodes; a third waits', async () => {
    const app = `anti-${tag}`;
    const affinity = `        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector: { matchLabels: { app: ${app} } }
              topologyKey: kubernetes.io/hostname`;
    await apply(app, deployment(app, 2, affinity));
    const pods = await cluster.waitForRunning(app, 2, 120_000);
    expect(new Set(pods.map((p) => p.node))).toEqual(new Set(['node-a', 'node-b']));

    await apply(app, deployment(app, 3, affinity));
    const pending = await eventually(async () => {
      const all = await cluster.pods(app);
      return all.find((p) => p.node === undefined && p.unschedulable !== undefined);
    }, 60_000, 'a third replica Pending');
    expect(pending.unschedulable).toBe("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules");
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
  });

  it('required node affinity keeps every replica on the labelled node', async () => {
    const app = `pinned-${tag}`;
    expect((await cluster.grove(['node', 'label', 'node-b', `camera-${tag}=usb`])).code).toBe(0);
    const affinity = `        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions: [{ key: camera-${tag}, operator: In, values: [usb, csi] }]`;
    await apply(app, deployment(app, 3, affinity));
    const pods = await cluster.waitForRunning(app, 3, 120_000);
    expect(pods.map((p) => p.node)).toEqual(['node-b', 'node-b', 'node-b']);
    expect((await cluster.containers('node-a')).filter((c) => c.name.startsWith(app))).toEqual([]);
  });
});
