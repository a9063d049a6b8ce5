import { existsSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster, type PodJson } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';
import type { TestRegistry } from '../support/registry.js';

/**
 * Update windows and update locks with real containers (docs/agent.md): one server, one agent,
 * a registry. Each test prints the figure it measured.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'update windows and locks (real containers)', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;
  const suffix = Math.random().toString(36).slice(2, 7);

  /** A one-replica Deployment; `version` goes into the env, so a new one is a new revision. */
  const deployment = (name: string, version: string, annotations: Record<string, string>, script: string, opts: { grace?: number; command?: string } = {}): string => {
    const command = opts.command ?? `["sh", "-c", ${JSON.stringify(`${script} trap 'exit 0' TERM; while true; do sleep 1; done`)}]`;
    const ann = Object.entries(annotations).map(([k, v]) => `\n    ${k}: "${v}"`).join('');
    return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  annotations:${ann || ' {}'}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      terminationGracePeriodSeconds: ${opts.grace ?? 5}
      containers:
        - name: main
          image: ${registry.host}/test/busybox:1
          command: ${command}
          env:
            - name: VERSION
              value: "${version}"
`;
  };
  const apply = async (name: string, text: string): Promise<void> => {
    const file = join(scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  /** The pod that runs, once there is exactly one and it is Running. */
  const runningPod = async (app: string): Promise<PodJson | undefined> => {
    const pods = await cluster.pods(app);
    return pods.length === 1 && pods[0]!.phase === 'Running' ? pods[0] : undefined;
  };
  const runningContainerOf = async (pod: string): Promise<boolean> =>
    (await cluster.runningContainers('node-a')).some((c) => c.name === `${pod}_main`);
  /**
   * `grove describe pod` of the rolling update's new pod once its node holds it back: the
   * container Waiting with reason UpdateDeferred and the node's message (0.1's describe app
   * "Deferred: NODE: MESSAGE" line, now on the pod it concerns).
   */
  const deferredPod = (app: string, old: string): Promise<{ name: string; text: string }> =>
    eventually(async () => {
      const held = (await cluster.pods(app)).find((p) => p.name !== old && p.containers.some((c) => c.reason === 'UpdateDeferred'));
      if (!held) return undefined;
      const r = await cluster.grove(['describe', 'pod', held.name]);
      return r.stdout.includes('Message:') ? { name: held.name, text: r.stdout } : undefined;
    }, 20_000, 'the new pod held back with UpdateDeferred');
  const describeDeployment = async (app: string): Promise<string> => {
    const r = await cluster.grove(['describe', 'deployment', app]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  let env: OneNodeCluster | undefined;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-update-windows-', 'node-a');
    ({ registry, cluster, scratch } = env);
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('holds an update outside its window and applies it inside', async () => {
    const app = `windowed-${suffix}`;
    await apply(app, deployment(app, 'v1', {}, ''));
    const v1 = await eventually(() => runningPod(app), 90_000, 'v1 running');

    // A window that opens 40 s from now (UTC, second resolution) and stays open 2 min.
    const opensAt = new Date(Math.ceil((Date.now() + 40_000) / 1000) * 1000);
    const cron = `${opensAt.getUTCSeconds()} ${opensAt.getUTCMinutes()} ${opensAt.getUTCHours()} * * *`;
    const window = { 'grove.io/update-window': cron, 'grove.io/update-window-duration': '2m', 'grove.io/update-window-timezone': 'UTC' };
    await apply(app, deployment(app, 'v2', window, ''));

    const held = await deferredPod(app, v1.name);
    expect(held.text).toMatch(/^Node:\s+node-a\b/m);
    expect(held.text).toMatch(/^\s+State:\s+Waiting\n\s+Reason:\s+UpdateDeferred\n\s+Message:\s+update waits for window .*next at (\S+)$/m);
    expect(held.text).toContain(`update waits for window ${cron} (2m, UTC), next at ${opensAt.toISOString()}`);
    const described = await eventually(async () => {
      const text = await describeDeployment(app);
      return /^\s+Progressing\s+True\s+UpdateDeferred$/m.test(text) ? text : undefined;
    }, 20_000, 'describe deployment shows the deferred update');
    expect(described).toMatch(new RegExp(`^  Update Window:\\s+${cron.replaceAll('*', '\\*')} \\(2m, UTC\\)$`, 'm'));
    expect(Date.now()).toBeLessThan(opensAt.getTime()); // else the test machine was too slow to prove anything
    expect(await runningContainerOf(v1.name)).toBe(true);

    const v2 = await eventually(async () => {
      const p = await runningPod(app);
      return p && p.name !== v1.name && (await runningContainerOf(p.name)) ? p : undefined;
    }, 120_000, 'v2 running');
    const appliedAt = Date.now();
    expect(appliedAt).toBeGreaterThanOrEqual(opensAt.getTime());
    await eventually(async () => !(await runningContainerOf(v1.name)), 30_000, 'v1 stopped');
    console.log(`[figure] update window opened → update applied: ${((appliedAt - opensAt.getTime()) / 1000).toFixed(1)} s (${v2.name})`);
    await eventually(async () => !(await describeDeployment(app)).includes('UpdateDeferred'), 20_000, 'the deployment no longer deferred');
    expect((await cluster.pods(app)).flatMap((p) => p.containers.map((c) => c.reason))).not.toContain('UpdateDeferred');
  }, 300_000);

  it('defers the restart while the workload holds its update lock, and updates within seconds of release', async () => {
    const app = `locked-${suffix}`;
    const takeLock = 'test -n "$GROVE_LOCK_DIR" && touch "$GROVE_LOCK_DIR/updates.lock";';
    await apply(app, deployment(app, 'v1', {}, takeLock));
    const v1 = await eventually(() => runningPod(app), 90_000, 'v1 running');
    const lockFile = join(cluster.agentDir('node-a'), 'agent', 'locks', app, 'updates.lock');
    await eventually(async () => existsSync(lockFile), 20_000, 'the workload created its lock file');

    await apply(app, deployment(app, 'v2', {}, takeLock));
    const held = await deferredPod(app, v1.name);
    expect(held.text).toMatch(/^Node:\s+node-a\b/m);
    expect(held.text).toMatch(/^\s+Reason:\s+UpdateDeferred\n\s+Message:\s+update lock held since \S+ \(at most until \S+\)$/m);
    await eventually(async () => /^\s+Progressing\s+True\s+UpdateDeferred$/m.test(await describeDeployment(app)), 20_000, 'describe deployment shows the deferred update');
    // Held for a while: several polls of the agent later the old container still runs.
    await new Promise((r) => setTimeout(r, 8000));
    expect(await runningContainerOf(v1.name)).toBe(true);
    // The rolling update's new pod waits beside the old one, which keeps serving.
    const waiting = (await cluster.pods(app)).filter((p) => p.name !== v1.name);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ phase: 'Pending', containers: [{ state: 'waiting', reason: 'UpdateDeferred' }] });

    const releasedAt = Date.now();
    await unlink(lockFile);
    const v2 = await eventually(async () => {
      const p = await runningPod(app);
      return p && p.name !== v1.name && (await runningContainerOf(p.name)) ? p : undefined;
    }, 60_000, 'v2 running');
    const seconds = (Date.now() - releasedAt) / 1000;
    console.log(`[figure] lock release → update applied: ${seconds.toFixed(1)} s (${v2.name})`);
    await eventually(async () => !(await runningContainerOf(v1.name)), 30_000, 'v1 stopped');
  }, 300_000);

  it('deletes an app at once although its workload holds the update lock', async () => {
    const app = `deleted-${suffix}`;
    const takeLock = 'test -n "$GROVE_LOCK_DIR" && touch "$GROVE_LOCK_DIR/updates.lock";';
    await apply(app, deployment(app, 'v1', {}, takeLock));
    const v1 = await eventually(async () => {
      const p = await runningPod(app);
      return p && (await runningContainerOf(p.name)) ? p : undefined;
    }, 90_000, 'v1 running');
    const lockFile = join(cluster.agentDir('node-a'), 'agent', 'locks', app, 'updates.lock');
    await eventually(async () => existsSync(lockFile), 20_000, 'the workload created its lock file');

    const deletedAt = Date.now();
    const r = await cluster.grove(['delete', 'deployment', app]);
    expect(r.code, r.stderr).toBe(0);
    // Held, it would run on for the agent's lock maximum (1 h) with no view showing it.
    await eventually(async () => !(await runningContainerOf(v1.name)), 30_000, 'the deleted app stopped');
    console.log(`[figure] delete of an app holding its update lock → container gone: ${((Date.now() - deletedAt) / 1000).toFixed(1)} s`);
    await eventually(async () => !existsSync(lockFile), 20_000, 'its lock directory removed');
  }, 300_000);

  it('a container with a long stop grace does not hold up other apps', async () => {
    // busybox sleep as PID 1 ignores SIGTERM: its removal takes the whole 120 s grace.
    const stubborn = `stubborn-${suffix}`;
    await apply(stubborn, deployment(stubborn, 'v1', {}, '', { grace: 120, command: '["sleep", "3600"]' }));
    const pod = await eventually(() => runningPod(stubborn), 90_000, 'stubborn running');
    const r = await cluster.grove(['delete', 'deployment', stubborn]);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 3000)); // the agent is now in the middle of that stop

    const quick = `quick-${suffix}`;
    const appliedAt = Date.now();
    await apply(quick, deployment(quick, 'v1', {}, ''));
    const started = await eventually(async () => {
      const p = await runningPod(quick);
      return p && (await runningContainerOf(p.name)) ? p : undefined;
    }, 100_000, 'quick running');
    const seconds = (Date.now() - appliedAt) / 1000;
    // Still stopping: the new app did not wait for it.
    expect(await runningContainerOf(pod.name)).toBe(true);
    console.log(`[figure] new app running while another stops (120 s grace): ${seconds.toFixed(1)} s after apply (${started.name})`);
  }, 300_000);
});
