import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Devices through manifests with real containers (issue 5): the grove.io/devices annotation
 * hands a device made for the test (a loop device over a file with known bytes) to a pod
 * without privileged; a pod without it cannot open the same device; a device the node does not
 * have is a clear error in the pod's status, and the agent carries on.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'devices and groups in manifests (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let loop = '';
  const tag = randomBytes(3).toString('hex');

  const apply = async (name: string, annotation: string | undefined, script: string) => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }${annotation !== undefined ? `\n      annotations: { grove.io/devices: "${annotation}" }` : ''}
    spec:
      terminationGracePeriodSeconds: 1
      securityContext: { supplementalGroups: [997] }
      containers:
        - name: main
          image: ${env!.registry.host}/test/busybox:1
          command: ["sh", "-c", ${JSON.stringify(`${script}; trap 'exit 0' TERM; while true; do sleep 1; done`)}]
`;
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const logs = async (app: string) => (await cluster.grove(['logs', `deploy/${app}`])).stdout;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pod-devices-', 'node-a');
    cluster = env.cluster;
    const backing = join(env.scratch, 'sensor.img');
    await writeFile(backing, Buffer.concat([Buffer.from('GROVEDEV'), Buffer.alloc(1024 * 1024 - 8)]));
    loop = execFileSync('losetup', ['--find', '--show', backing]).toString().trim();
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
    if (loop) execFileSync('losetup', ['-d', loop]);
  });

  it('gives a pod its device without privileged, refuses it to others, and reports a missing one', async () => {
    await apply('sensor', `${loop}:/dev/sensor:r`, 'head -c 8 /dev/sensor; echo; id -G');
    await cluster.waitForRunning('sensor', 1, 90_000);
    const out = await eventually(async () => {
      const text = await logs('sensor');
      return text.includes('GROVEDEV') ? text : undefined;
    }, 30_000, 'the device read in the container');
    expect(out).toMatch(/\b997\b/);
    expect((await cluster.grove(['describe', 'deployment', 'sensor'])).stdout).toMatch(new RegExp(`Devices:\\s+${loop}:/dev/sensor:r`));

    const major = parseInt(execFileSync('stat', ['-c', '%t', loop]).toString().trim(), 16);
    const minor = parseInt(execFileSync('stat', ['-c', '%T', loop]).toString().trim(), 16);
    await apply('nodev', undefined, `mknod /tmp/sensor b ${major} ${minor} && head -c 8 /tmp/sensor || echo refused`);
    await cluster.waitForRunning('nodev', 1, 90_000);
    const refused = await eventually(async () => {
      const text = await logs('nodev');
      return text.includes('refused') ? text : undefined;
    }, 30_000, 'the container without the device is refused');
    expect(refused).not.toContain('GROVEDEV');

    const missing = `/dev/grove-missing-${tag}`;
    await apply('missing', missing, 'true');
    const pod = await eventually(async () => {
      const [p] = await cluster.pods('missing');
      const c = p?.containers[0];
      return c?.message?.includes('does not exist') ? { p, c } : undefined;
    }, 60_000, 'the missing device in the pod status');
    console.log(`[figure] missing device: pod ${pod.p!.phase}, ${pod.c.reason}: ${pod.c.message}`);
    expect(pod.c.message).toContain(`device ${missing} does not exist on this node`);
    // The agent carries on: the node stays Ready and the other pods keep running.
    await cluster.waitForNodesReady(['node-a']);
    expect((await cluster.pods('sensor'))[0]).toMatchObject({ phase: 'Running' });
  }, 300_000);
});
