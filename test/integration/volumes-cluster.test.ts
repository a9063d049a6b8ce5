import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Volumes through the whole path (manifest → API → target → agent → runc): a named volume's data
 * survives an update of the app's image, the server's hostPath roots refuse a manifest with a
 * clear line, and `grove volume ls/rm` list and remove a node's named volume (refused in use).
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'volumes in a cluster (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let roots = '';
  const tag = randomBytes(3).toString('hex');
  const app = `keep-${tag}`;
  const volume = `data-${tag}`;

  const deployment = (image: string, script: string, volumes: string, mounts: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app} }
spec:
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      terminationGracePeriodSeconds: 1
      volumes: ${volumes}
      containers:
        - name: main
          image: ${env!.registry.host}/test/busybox:${image}
          command: ["sh", "-c", ${JSON.stringify(`${script}; trap 'exit 0' TERM; while true; do sleep 1; done`)}]
          volumeMounts: ${mounts}
`;
  const apply = async (name: string, text: string) => {
    const file = join(env!.scratch, name);
    await writeFile(file, text);
    return cluster.grove(['apply', '-f', file]);
  };

  beforeAll(async () => {
    roots = await mkdtemp(join(tmpdir(), 'grove-hostroots-'));
    env = await startOneNodeCluster('grove-volumes-cluster-', 'node-a', { extraArgs: ['--host-path-root', roots] });
    cluster = env.cluster;
    await pushImage(env.registry.url, 'test/busybox', '2', await buildBusyboxImage());
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
    if (roots) await rm(roots, { recursive: true, force: true });
  });

  it('keeps a named volume across an image update, and lists and removes it with grove volume', async () => {
    const volumes = `[{ name: data, persistentVolumeClaim: { claimName: ${volume} } }]`;
    const mounts = '[{ name: data, mountPath: /data }]';
    const v1 = await apply('v1.yaml', deployment('1', 'echo written-by-v1 > /data/f', volumes, mounts));
    expect(v1.code, v1.stderr).toBe(0);
    await cluster.waitForRunning(app, 1, 120_000);
    // v2 also gets an emptyDir: its directory on the node must go with the pod.
    const v2 = await apply(
      'v2.yaml',
      deployment('2', 'echo "v2 reads $(cat /data/f)"', `[{ name: data, persistentVolumeClaim: { claimName: ${volume} } }, { name: scratch, emptyDir: {} }]`, '[{ name: data, mountPath: /data }, { name: scratch, mountPath: /scratch }]'),
    );
    expect(v2.code, v2.stderr).toBe(0);
    await eventually(async () => {
      const pods = await cluster.pods(app);
      return pods.length === 1 && pods[0]!.phase === 'Running' && (await cluster.grove(['logs', `deploy/${app}`])).stdout.includes('v2 reads written-by-v1');
    }, 120_000, 'the v2 pod reading what v1 wrote');

    const ls = await cluster.grove(['volume', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`node-a\\s+${volume}\\s+\\S.*${app}-[\\w-]+_main`));
    const busy = await cluster.grove(['volume', 'rm', volume, '--node', 'node-a']);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain(`volume "${volume}" is in use by ${app}-`);

    const podsDir = join(cluster.agentDir('node-a'), 'pods');
    expect(await readdir(podsDir)).toHaveLength(1);
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
    await eventually(async () => (await cluster.containers('node-a')).length === 0, 60_000, 'the app\'s container gone');
    await eventually(async () => (await readdir(podsDir)).length === 0, 30_000, 'the pod\'s volume directory removed');
    const removed = await cluster.grove(['volume', 'rm', volume, '--node', 'node-a']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`volume/${volume} removed from node node-a`);
    const after = await cluster.json<{ node: string; volumes: { name: string }[] }[]>(['volume', 'ls', '--node', 'node-a']);
    expect(after).toEqual([{ node: 'node-a', volumes: [] }]);
    const missing = await cluster.grove(['volume', 'rm', volume, '--node', 'node-a']);
    expect(missing.stderr).toContain(`volume "${volume}" not found on this node`);
  }, 360_000);

  it('refuses a hostPath outside the server\'s allowed roots at apply, naming file, path and roots', async () => {
    const r = await apply('host.yaml', deployment('1', 'true', '[{ name: etc, hostPath: { path: /etc } }]', '[{ name: etc, mountPath: /host-etc }]'));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`host.yaml: spec.template.spec.volumes[0].hostPath.path: Deployment default/${app}: volume "etc" host path "/etc" is outside the allowed roots (${roots})`);
    const inside = await apply('inside.yaml', deployment('1', 'ls /in', `[{ name: in, hostPath: { path: ${roots}/sub, type: DirectoryOrCreate } }]`, '[{ name: in, mountPath: /in, readOnly: true }]'));
    expect(inside.code, inside.stderr).toBe(0);
    await cluster.waitForRunning(app, 1, 120_000);
    expect((await cluster.grove(['delete', 'deployment', app])).code).toBe(0);
  }, 240_000);
});
