import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PodJson, TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Start order with real containers (issue 5): init containers run one after another to
 * completion before the main container starts, and a failing one keeps it from starting
 * (Init:Error / Init:CrashLoopBackOff); compose depends_on holds a service until the one it
 * depends on is healthy (its healthcheck passes), and the healthcheck makes a pod ready and
 * unready again. Each container logs `<what> <epoch seconds>`; order is read from those.
 */
const FOREVER = `trap 'exit 0' TERM; while true; do sleep 1; done`;

describeWith(['root', 'runc', 'registry', 'shim'], 'init containers, depends_on and healthcheck (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  const image = () => `${env!.registry.host}/test/busybox:1`;

  const apply = async (file: string, text: string) => {
    const path = join(env!.scratch, file);
    await writeFile(path, text);
    const r = await cluster.grove(['apply', '-f', path]);
    expect(r.code, r.stderr).toBe(0);
  };
  const pod = async (app: string): Promise<PodJson | undefined> => (await cluster.pods(app))[0];
  /** The epoch second a container of `workload` (deploy/NAME, job/NAME) logged after `marker`. */
  const loggedAt = async (workload: string, container: string, marker: string): Promise<number> =>
    eventually(async () => {
      const out = (await cluster.grove(['logs', workload, '-c', container])).stdout;
      const m = new RegExp(`${marker} (\\d+)`).exec(out);
      return m ? Number(m[1]) : undefined;
    }, 90_000, `${workload}/${container} logging ${marker}`);
  const deployment = (name: string, inits: string, main: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      initContainers:
${inits}      containers:
        - name: main
          image: ${image()}
          command: ["sh", "-c", ${JSON.stringify(main)}]
`;
  const init = (name: string, script: string) => `        - name: ${name}
          image: ${image()}
          command: ["sh", "-c", ${JSON.stringify(script)}]
`;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-start-order-', 'node-a');
    cluster = env.cluster;
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('runs init containers in order, each to completion, before the main container', async () => {
    await apply(
      'ordered.yaml',
      deployment(
        'ordered',
        init('first', 'echo first-start $(date +%s); sleep 8; echo first-end $(date +%s)') + init('second', 'echo second-start $(date +%s); sleep 2; echo second-end $(date +%s)'),
        `echo main-start $(date +%s); ${FOREVER}`,
      ),
    );
    // While the first one sleeps the pod initialises: Init:0/2, the main container waits.
    const during = await eventually(async () => {
      const r = await cluster.grove(['get', 'pods']);
      return /ordered-\S+\s+\S+\s+Init:0\/2/.test(r.stdout) ? r.stdout : undefined;
    }, 90_000, 'Init:0/2 in get pods');
    console.log(`[figure] while initialising:\n${during.trim()}`);
    expect((await pod('ordered'))!.containers[0]).toMatchObject({ state: 'waiting', reason: 'PodInitializing' });

    await cluster.waitForRunning('ordered', 1, 120_000);
    const firstEnd = await loggedAt('deploy/ordered', 'first', 'first-end');
    const secondStart = await loggedAt('deploy/ordered', 'second', 'second-start');
    const secondEnd = await loggedAt('deploy/ordered', 'second', 'second-end');
    const mainStart = await loggedAt('deploy/ordered', 'main', 'main-start');
    console.log(`[figure] first ended ${firstEnd}, second ran ${secondStart}..${secondEnd}, main started ${mainStart}`);
    expect(secondStart).toBeGreaterThanOrEqual(firstEnd);
    expect(mainStart).toBeGreaterThanOrEqual(secondEnd);
    const running = (await pod('ordered'))!;
    expect(running.initContainers!.map((c) => [c.name, c.state, c.exitCode])).toEqual([
      ['first', 'exited', 0],
      ['second', 'exited', 0],
    ]);
    // The Deployment's template lists them in order; the pod says each one Completed.
    const template = (await cluster.grove(['describe', 'deployment', 'ordered'])).stdout;
    expect(template).toMatch(/Init Containers:\n\s+first:[\s\S]*second:[\s\S]*Containers:\n\s+main:/);
    const described = (await cluster.grove(['describe', 'pod', running.name])).stdout;
    expect(described).toMatch(/Init Containers:\n\s+first:[\s\S]*?State:\s+Terminated\n\s+Reason:\s+Completed\n\s+Exit Code:\s+0\n[\s\S]*?\n\s+second:[\s\S]*?State:\s+Terminated\n\s+Reason:\s+Completed\n\s+Exit Code:\s+0\n[\s\S]*\nContainers:\n\s+main:/);
    // A completed init container is not run again while the pod lives, also across an agent
    // restart: its exited record counts, and the main container is left running.
    const before = await cluster.containers('node-a');
    const mainBefore = before.find((c) => /^ordered-.*_main$/.test(c.name))!;
    await cluster.killAgent('node-a');
    await cluster.startAgent('node-a');
    await cluster.waitForNodesReady(['node-a'], 90_000);
    // Two polls of the restarted agent (5 s each) would have started anything it meant to.
    await new Promise((r) => setTimeout(r, 12_000));
    await cluster.waitForRunning('ordered', 1, 60_000);
    const after = await cluster.containers('node-a');
    expect(after.filter((c) => /^ordered-.*_(first|second)$/.test(c.name)).map((c) => c.state)).toEqual(['exited', 'exited']);
    const mainAfter = after.find((c) => /^ordered-.*_main$/.test(c.name))!;
    expect(mainAfter.id).toBe(mainBefore.id);
    expect(mainAfter.startedAt).toBe(mainBefore.startedAt);
  }, 300_000);

  it('keeps the main container from starting while an init container fails, and shows why', async () => {
    await apply('broken.yaml', deployment('broken', init('check', 'echo checking; exit 3'), `echo main-start $(date +%s); ${FOREVER}`));
    const status = await eventually(async () => {
      const r = await cluster.grove(['get', 'pods']);
      const m = /broken-\S+\s+\S+\s+(Init:\S+)/.exec(r.stdout);
      return m && (m[1] === 'Init:Error' || m[1] === 'Init:CrashLoopBackOff') ? m[1] : undefined;
    }, 90_000, 'Init:Error or Init:CrashLoopBackOff');
    // It is restarted (Deployment pods restart Always) with the crash-loop backoff.
    const looping = await eventually(async () => {
      const p = await pod('broken');
      return p && p.restarts >= 1 && p.initContainers?.[0]?.reason === 'CrashLoopBackOff' ? p : undefined;
    }, 120_000, 'the init container restarted and backing off');
    console.log(`[figure] failing init: first status ${status}, then ${looping.initContainers![0]!.reason} after ${looping.restarts} restart(s), phase ${looping.phase}`);
    expect(looping.phase).toBe('Pending');
    expect(looping.containers[0]).toMatchObject({ state: 'waiting', reason: 'PodInitializing' });
    const onNode = await cluster.containers('node-a');
    expect(onNode.some((c) => /^broken-.*_main$/.test(c.name))).toBe(false);
  }, 300_000);

  it('starts a compose service only once the one it depends on is healthy; the healthcheck makes it ready and unready', async () => {
    // `$$` is compose's literal `$` (in the Job's args `$$(…)`, Kubernetes' escape the node undoes).
    // Neither service restarts, so both are Jobs (compose's default restart "no"). Project
    // "default": the objects go to the default namespace, where the helpers look.
    await apply(
      'compose.yaml',
      `name: default
services:
  db:
    image: ${image()}
    stop_grace_period: 1s
    command: ["sh", "-c", ${JSON.stringify(`sleep 6; touch /tmp/ready; echo db-ready $$(date +%s); sleep 20; rm /tmp/ready; echo db-unready $$(date +%s); ${FOREVER}`)}]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 1s
      retries: 1
  web:
    image: ${image()}
    stop_grace_period: 1s
    command: ["sh", "-c", ${JSON.stringify(`echo web-start $$(date +%s); ${FOREVER}`)}]
    depends_on:
      db: { condition: service_healthy }
`,
    );
    const waiting = await eventually(async () => {
      const p = await pod('web');
      return p?.containers[0]?.reason === 'WaitingForDependency' ? p : undefined;
    }, 90_000, 'web waiting for db');
    expect(waiting.phase).toBe('Pending');
    await cluster.waitForRunning('db', 1, 120_000);
    await cluster.waitForRunning('web', 1, 120_000);
    const dbReady = await loggedAt('job/db', 'db', 'db-ready');
    const webStart = await loggedAt('job/web', 'web', 'web-start');
    console.log(`[figure] db healthy at ${dbReady}, web started at ${webStart} (+${webStart - dbReady}s)`);
    expect(webStart).toBeGreaterThanOrEqual(dbReady);

    // The healthcheck fails once the file is gone: db is running but not ready (restart "no": no liveness kill).
    const unready = await eventually(async () => {
      const p = await pod('db');
      return p && p.phase === 'Running' && !p.ready ? p : undefined;
    }, 90_000, 'db unready');
    expect(unready.containers[0]).toMatchObject({ state: 'running' });
    expect(unready.restarts).toBe(0);
    // web keeps running: a dependency that goes unhealthy later does not stop its dependants.
    expect((await pod('web'))!).toMatchObject({ phase: 'Running', ready: true });
  }, 300_000);

  it('restarts a compose service that turns unhealthy when it restarts by policy (liveness, as swarm)', async () => {
    await apply(
      'compose-live.yaml',
      `name: default
services:
  flaky:
    image: ${image()}
    restart: always
    stop_grace_period: 1s
    command: ["sh", "-c", ${JSON.stringify(`touch /tmp/ok; echo flaky-start; sleep 8; rm /tmp/ok; ${FOREVER}`)}]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 1s
      timeout: 1s
      retries: 2
      start_period: 5s
`,
    );
    await cluster.waitForRunning('flaky', 1, 120_000);
    const restarted = await eventually(async () => {
      const p = await pod('flaky');
      return p && p.restarts >= 1 ? p : undefined;
    }, 120_000, 'flaky restarted by its liveness probe');
    console.log(`[figure] unhealthy with restart: always: ${restarted.restarts} restart(s), ${restarted.containers[0]!.reason ?? restarted.containers[0]!.state}`);
    const logs = await eventually(async () => {
      const out = (await cluster.grove(['logs', 'deploy/flaky'])).stdout;
      return out.includes('flaky-start') ? out : undefined;
    }, 60_000, 'flaky logs');
    expect(logs).toContain('flaky-start');
  }, 300_000);
});
