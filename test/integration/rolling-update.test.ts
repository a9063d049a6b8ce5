import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster, type PodJson } from '../support/cluster.js';
import { eventually, spawnGrove } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';
import type { TestRegistry } from '../support/registry.js';

/**
 * Rolling update end to end with real containers (docs/reliability.md): three replicas that
 * turn ready through an exec readiness probe; an update to an image that does not exist must
 * stop at maxUnavailable, roll back by itself when progressDeadlineSeconds passes, and never
 * leave fewer than replicas − maxUnavailable old pods serving. Then `grove rollout restart`
 * replaces every pod and `grove rollout status` follows it to the end.
 */
const manifest = (registry: string, tag: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: 3
  progressDeadlineSeconds: 12
  strategy:
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 }
  selector:
    matchLabels: { app: roll }
  template:
    metadata:
      labels: { app: roll }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: main
          image: ${registry}/test/busybox:${tag}
          command: ["sh", "-c", "touch /tmp/ready; trap 'exit 0' TERM; while true; do sleep 1; done"]
          readinessProbe:
            exec: { command: ["cat", "/tmp/ready"] }
            periodSeconds: 1
`;

describeWith(['root', 'runc', 'registry', 'shim'], 'rolling update with automatic rollback (real containers)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const apply = async (tag: string) => {
    const file = join(scratch, `roll-${tag}.yaml`);
    await writeFile(file, manifest(registry.host, tag));
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };

  /** `grove rollout status` in the background: its exit code and output when it ends. */
  const rolloutStatus = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const proc = spawnGrove(['--data-dir', cluster.serverDir, 'rollout', 'status', 'deployment/roll', '--timeout', '3m']);
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      proc.on('exit', (code) => resolve({ code, out }));
    });

  /** The Deployment's revisions (the server's rollout history route): number, current, image less the registry. */
  const revisions = async () =>
    (await cluster.apiGet<{ revision: number; current: boolean; template: { spec: { containers: { image: string }[] } } }[]>('/v1/namespaces/default/deployments/roll/rollout/history')).map((r) => ({
      revision: r.revision,
      current: r.current,
      image: r.template.spec.containers[0]!.image.replace(`${registry.host}/`, ''),
    }));

  let env: OneNodeCluster | undefined;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-rolling-', 'roll-a');
    ({ registry, cluster, scratch } = env);
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('stops a broken rollout at maxUnavailable, rolls back by itself, and restarts on demand', async () => {
    await apply('1');
    const v1 = await cluster.waitForRunning('roll', 3, 90_000);
    const v1Hash = v1[0]!.templateHash;

    await apply('missing');
    const status = rolloutStatus();
    let minOldReady = 3;
    let maxPods = 0;
    const started = Date.now();
    let rolledBackAt = 0;
    // Watch availability until the app is back on its old template with 3 ready pods.
    await eventually(async () => {
      const pods: PodJson[] = await cluster.pods('roll');
      const oldReady = pods.filter((p) => p.templateHash === v1Hash && p.ready).length;
      minOldReady = Math.min(minOldReady, oldReady);
      maxPods = Math.max(maxPods, pods.length);
      const deployment = await cluster.json<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(['get', 'deployment', 'roll']);
      const back = deployment.spec.template.spec.containers[0]!.image.endsWith(':1');
      if (back && rolledBackAt === 0 && Date.now() - started > 1000) rolledBackAt = Date.now();
      return back && pods.length === 3 && pods.every((p) => p.templateHash === v1Hash && p.ready);
    }, 120_000, 'rolled back to 3 ready pods of version 1');
    const result = await status;
    console.log(`[figure] broken rollout: fewest ready old pods ${minOldReady} (allowed 2), most pods ${maxPods} (allowed 4), rolled back ${Math.round((rolledBackAt - started) / 1000)} s after the update (deadline 12 s), all 3 ready again ${Math.round((Date.now() - started) / 1000)} s after it`);
    expect(minOldReady).toBeGreaterThanOrEqual(2);
    expect(maxPods).toBeLessThanOrEqual(4);
    expect(result.code, result.out).toBe(1);
    expect(result.out).toContain('deployment "roll" rollout failed and was rolled back: revision 2 → 1');

    const describe = await cluster.grove(['describe', 'deployment', 'roll']);
    expect(describe.stdout).toMatch(/grove\.io\/last-rollback: revision 2 → 1 at \S+: no progress for 12 s/);
    expect(describe.stdout).toMatch(/Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/);
    expect(describe.stdout).toMatch(/Image:\s+\S+\/test\/busybox:1$/m);
    // Revision 1's template came back as revision 3 (Kubernetes renumbers the ReplicaSet it reuses).
    const history = await cluster.grove(['rollout', 'history', 'deployment/roll']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/^REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\s*$/m);
    expect(await revisions()).toEqual([
      { revision: 2, current: false, image: 'test/busybox:missing' },
      { revision: 3, current: true, image: 'test/busybox:1' },
    ]);

    const before = (await cluster.pods('roll')).map((p) => p.name);
    const restart = await cluster.grove(['rollout', 'restart', 'deployment/roll']);
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stdout.trim()).toBe('deployment.apps/roll restarted');
    const done = await cluster.grove(['rollout', 'status', 'deployment/roll', '--timeout', '2m']);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toContain('deployment "roll" successfully rolled out');
    expect((await revisions()).find((r) => r.current)).toEqual({ revision: 4, current: true, image: 'test/busybox:1' });
    const after = await cluster.waitForRunning('roll', 3, 60_000);
    expect(after.filter((p) => before.includes(p.name))).toEqual([]);
  }, 300_000);
});
