import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Persistent volumes through the whole path on two nodes: a claim of the default local-path
 * class is provisioned on the node of its first pod; the data its pod wrote survives the pod's
 * deletion, and the replacement lands on that node (although the scheduler would otherwise
 * pick the other one) and reads it.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'persistent volumes (local-path, two nodes)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  const tag = randomBytes(3).toString('hex');
  const app = `pv-${tag}`;
  const claim = `data-${tag}`;
  const filler = `filler-${tag}`;

  const apply = async (name: string, text: string) => {
    const file = join(env!.scratch, name);
    await writeFile(file, text);
    return cluster.grove(['apply', '-f', file]);
  };
  const image = () => `${env!.registry.host}/test/busybox:1`;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pv-', 'node-a');
    cluster = env.cluster;
    await cluster.startAgent('node-b', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('binds on the first pod\'s node, keeps the data across the pod\'s deletion, and pins the next pod there', async () => {
    // A bare pod on node-a makes node-b the emptier node for the app's first pod.
    const bare = await apply('filler.yaml', `apiVersion: v1
kind: Pod
metadata: { name: ${filler} }
spec:
  nodeName: node-a
  terminationGracePeriodSeconds: 1
  containers: [{ name: main, image: ${image()}, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }]
`);
    expect(bare.code, bare.stderr).toBe(0);
    await eventually(async () => (await cluster.pods()).some((p) => p.name === filler && p.phase === 'Running'), 120_000, 'the filler pod running');

    const r = await apply('app.yaml', `apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${claim} }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app} }
spec:
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      terminationGracePeriodSeconds: 1
      volumes: [{ name: data, persistentVolumeClaim: { claimName: ${claim} } }]
      containers:
        - name: main
          image: ${image()}
          command: ["sh", "-c", "echo \\"before: $(cat /data/log 2>/dev/null)\\"; echo $HOSTNAME >> /data/log; trap 'exit 0' TERM; while true; do sleep 1; done"]
          volumeMounts: [{ name: data, mountPath: /data }]
`);
    expect(r.code, r.stderr).toBe(0);
    const [first] = await cluster.waitForRunning(app, 1, 120_000);
    expect(first!.node).toBe('node-b');

    const pvc = await cluster.json<{ spec: { volumeName: string; storageClassName: string }; status: { phase: string } }>(['get', 'pvc', claim]);
    expect(pvc.status.phase).toBe('Bound');
    expect(pvc.spec.storageClassName).toBe('local-path');
    const pv = await cluster.json<{ spec: { nodeAffinity: unknown; persistentVolumeReclaimPolicy: string }; status: { phase: string } }>(['get', 'pv', pvc.spec.volumeName]);
    expect(pv.status.phase).toBe('Bound');
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(JSON.stringify(pv.spec.nodeAffinity)).toContain('"values":["node-b"]');
    const file = join(cluster.agentDir('node-b'), 'volumes', pvc.spec.volumeName, 'log');
    await eventually(async () => (await readFile(file, 'utf8').catch(() => '')).includes(first!.name), 30_000, 'the pod writing into its volume on node-b');

    const table = await cluster.grove(['get', 'pvc']);
    expect(table.stdout).toMatch(new RegExp(`^NAME\\s+STATUS\\s+VOLUME\\s+CAPACITY\\s+ACCESS MODES\\s+STORAGECLASS`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`${claim}\\s+Bound\\s+${pvc.spec.volumeName}\\s+64Mi\\s+RWO\\s+local-path`));

    // node-a is now the emptier node: only the volume keeps the replacement on node-b.
    expect((await cluster.grove(['delete', 'pod', filler])).code).toBe(0);
    expect((await cluster.grove(['delete', 'pod', first!.name])).code).toBe(0);
    const second = await eventually(async () => {
      const pods = await cluster.pods(app);
      return pods.length === 1 && pods[0]!.name !== first!.name && pods[0]!.phase === 'Running' ? pods[0] : undefined;
    }, 120_000, 'the replacement pod running');
    expect(second.node).toBe('node-b');
    await eventually(async () => (await cluster.grove(['logs', second.name])).stdout.includes(`before: ${first!.name}`), 60_000, 'the replacement reading what the first pod wrote');

    // Deleting the app and the claim releases the volume; reclaim policy Delete removes the PV object.
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
    expect((await cluster.grove(['delete', 'pvc', claim])).code).toBe(0);
    await eventually(async () => (await cluster.grove(['get', 'pv', pvc.spec.volumeName])).code !== 0, 60_000, 'the released volume deleted');
  }, 360_000);
});
