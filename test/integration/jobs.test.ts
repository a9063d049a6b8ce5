import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
/** 0.1's `get apps -o json` shape, untyped: its modules are deleted (i13-itest2 rewrites this test to objects). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AppView = any;
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

interface CtrJson {
  name: string;
  state: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  labels: Record<string, string>;
}

/**
 * Jobs and CronJobs end to end with real containers: a Job runs to completion and is not run
 * again after an agent restart; a CronJob keeps firing on the node while the server (and with
 * it the embedded broker) is down, and Forbid never lets two runs overlap.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'Jobs and CronJobs (server + agent, real containers)', () => {
  const suffix = Math.random().toString(36).slice(2, 7);
  const jobName = `once-${suffix}`;
  const cronName = `tick-${suffix}`;
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  const apply = async (name: string, text: string) => {
    const file = join(scratch, `${name}.yaml`);
    await writeFile(file, text.replaceAll('REGISTRY', registry.host));
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const app = (name: string) => cluster.json<AppView>(['get', 'apps', name]);
  /** Every container on the node, from its own runtime: works with the server down. */
  const containers = async (): Promise<CtrJson[]> => (await cluster.containers('node-a')) as unknown as CtrJson[];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-jobs-manifests-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    // info: the agent's 'schedule fired' lines are how firings and Forbid skips are counted.
    cluster = await TestCluster.create({ env: { GROVE_LOG_LEVEL: 'info' } });
    await cluster.startServer();
    await cluster.startAgent('node-a', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a']);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs a Job to completion, shows it in get jobs, and does not run it again after an agent restart', async () => {
    const started = Date.now();
    await apply(
      jobName,
      `apiVersion: batch/v1
kind: Job
metadata:
  name: ${jobName}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: REGISTRY/test/busybox:1
          command: ["sh", "-c", "echo migrated; sleep 1"]
`,
    );
    const done = await eventually(async () => {
      const a = await app(jobName);
      return a.pods.job?.condition === 'Complete' ? a : undefined;
    }, 120_000, 'job complete');
    console.log(`[figure] Job ${jobName}: apply → Complete in ${((Date.now() - started) / 1000).toFixed(1)} s (image pull included)`);
    expect(done.pods.job).toMatchObject({ succeeded: 1, failed: 0, active: 0 });
    const table = await cluster.grove(['get', 'jobs']);
    expect(table.stdout).toMatch(/NAME\s+COMPLETIONS\s+STATUS\s+DURATION\s+AGE\s+NODE/);
    expect(table.stdout).toMatch(new RegExp(`${jobName}\\s+1/1\\s+Complete\\s+\\d+s\\s+.+\\s+node-a`));
    const described = await cluster.grove(['describe', 'job', jobName]);
    expect(described.stdout).toMatch(/Job status:\s+Complete: 0 active, 1 succeeded, 0 failed/);

    const before = (await containers()).filter((c) => c.labels['grove.app'] === jobName);
    expect(before.map((c) => [c.state, c.exitCode])).toEqual([['exited', 0]]);

    await cluster.killAgent('node-a');
    await cluster.startAgent('node-a');
    await cluster.waitForNodesReady(['node-a']);
    // Several reconciles (poll every 5 s) after the restart: nothing may have started again.
    await new Promise((r) => setTimeout(r, 12_000));
    const after = (await containers()).filter((c) => c.labels['grove.app'] === jobName);
    expect(after.map((c) => [c.name, c.startedAt])).toEqual(before.map((c) => [c.name, c.startedAt]));
    expect((await app(jobName)).pods.job).toMatchObject({ condition: 'Complete', succeeded: 1 });
    console.log(`[figure] Job ${jobName} after agent restart: ${after.length} container(s), runs started again: 0`);
  }, 240_000);

  it('deletes a finished Job after ttlSecondsAfterFinished (server: the resource, agent: the containers)', async () => {
    const name = `ttl-${suffix}`;
    await apply(
      name,
      `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  ttlSecondsAfterFinished: 3
  template:
    spec:
      restartPolicy: OnFailure
      containers:
        - name: main
          image: REGISTRY/test/busybox:1
          command: ["true"]
`,
    );
    const done = await eventually(async () => (await app(name)).pods.job?.completionTime, 120_000, 'ttl job complete');
    await eventually(async () => {
      const r = await cluster.grove(['get', 'apps', name]);
      return r.code !== 0 && /not found/i.test(r.stderr);
    }, 60_000, 'job deleted after its TTL');
    const deletedAfter = (Date.now() - Date.parse(done)) / 1000;
    await eventually(async () => !(await containers()).some((c) => c.labels['grove.app'] === name), 60_000, 'ttl job containers removed');
    console.log(`[figure] Job with ttlSecondsAfterFinished 3: deleted ${deletedAfter.toFixed(1)} s after completion (sweep every ≤ 5 s)`);
    expect(deletedAfter).toBeGreaterThanOrEqual(3);
  }, 240_000);

  it('fails a Job past activeDeadlineSeconds and stops its running container', async () => {
    const name = `late-${suffix}`;
    await apply(
      name,
      `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  activeDeadlineSeconds: 4
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: REGISTRY/test/busybox:1
          command: ["sleep", "600"]
`,
    );
    const failed = await eventually(async () => {
      const a = await app(name);
      return a.pods.job?.condition === 'Failed' ? a : undefined;
    }, 120_000, 'job failed by its deadline');
    expect(failed.pods.job).toMatchObject({ reason: 'DeadlineExceeded', active: 0 });
    const took = (Date.parse(failed.pods.job!.completionTime!) - Date.parse(failed.pods.job!.startTime!)) / 1000;
    console.log(`[figure] Job with activeDeadlineSeconds 4: failed (DeadlineExceeded) ${took.toFixed(1)} s after it started`);
    expect(took).toBeGreaterThanOrEqual(4);
    await eventually(async () => !(await containers()).some((c) => c.labels['grove.app'] === name && c.state === 'running'), 60_000, 'deadline job container stopped');
    expect((await cluster.grove(['get', 'jobs', name])).stdout).toMatch(new RegExp(`${name}\\s+0/1\\s+Failed`));
    await cluster.grove(['delete', 'job', name]);
  }, 240_000);

  it('fires a CronJob on the node while the server and broker are down; Forbid skips overlapping runs', async () => {
    // Every 2 s, each run ~5 s: with Forbid most firings must be skipped.
    await apply(
      cronName,
      `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${cronName}
spec:
  schedule: "*/2 * * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 50
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          terminationGracePeriodSeconds: 1
          containers:
            - name: main
              image: REGISTRY/test/busybox:1
              command: ["sh", "-c", "echo tick; sleep 5"]
`,
    );
    const runsOf = async () => (await containers()).filter((c) => c.labels['grove.app'] === cronName);
    await eventually(async () => (await runsOf()).some((c) => c.state === 'exited' && c.exitCode === 0), 120_000, 'first cron run finished');

    await cluster.killServer('SIGKILL');
    const downAt = Date.now();
    const logFrom = cluster.agents.get('node-a')!.log.length;
    const DOWN_MS = 40_000;
    await new Promise((r) => setTimeout(r, DOWN_MS));
    const runs = await runsOf();
    const duringOutage = runs.filter((c) => Date.parse(c.createdAt) > downAt);
    const agentLog = cluster.agents.get('node-a')!.log.slice(logFrom);
    const forbidSkips = (agentLog.match(/"skipped":"Forbid"/g) ?? []).length;
    const started = (agentLog.match(/"msg":"schedule fired"/g) ?? []).length - forbidSkips;

    // Forbid: sorted by start, no run starts before the previous one finished.
    const ordered = runs.filter((c) => c.startedAt).sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
    let overlaps = 0;
    for (let i = 1; i < ordered.length; i++) {
      const prevEnd = ordered[i - 1]!.finishedAt;
      if (!prevEnd || Date.parse(ordered[i]!.startedAt!) < Date.parse(prevEnd)) overlaps++;
    }
    console.log(
      `[figure] CronJob */2s, runs ~5 s, Forbid, server+broker down ${DOWN_MS / 1000} s: ${duringOutage.length} runs started on the node during the outage ` +
        `(${started} firings ran, ${forbidSkips} skipped by Forbid); overlapping runs: ${overlaps} of ${ordered.length}`,
    );
    expect(duringOutage.length).toBeGreaterThanOrEqual(2);
    expect(forbidSkips).toBeGreaterThanOrEqual(2);
    expect(overlaps).toBe(0);

    await cluster.startServer();
    await cluster.waitForNodesReady(['node-a']);
    const cron = await eventually(async () => {
      const a = await app(cronName);
      const last = a.pods.job?.lastScheduleTime;
      return last && Date.parse(last) > downAt ? a : undefined;
    }, 60_000, 'cron status after the outage');
    expect(cron.pods.job!.succeeded).toBeGreaterThanOrEqual(2);
    const table = await cluster.grove(['get', 'cronjobs']);
    expect(table.stdout).toMatch(/NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+NODE/);
    expect(table.stdout).toMatch(new RegExp(`${cronName}\\s+\\*/2 \\* \\* \\* \\* \\*\\s+<none>\\s+false\\s+[01]\\s+\\S+`));

    const described = await cluster.grove(['describe', 'cronjob', cronName]);
    expect(described.stdout).toMatch(/Schedule:\s+\*\/2 \* \* \* \* \*/);
    expect(described.stdout).toMatch(/Concurrency:\s+Forbid/);
    expect(described.stdout).toMatch(/Runs:\n\s+NAME\s+STATUS/);
    // `grove logs` of a CronJob serves its newest run.
    const logs = await cluster.grove(['logs', cronName]);
    expect(logs.stdout, logs.stderr).toContain('tick');

    const deleted = await cluster.grove(['delete', 'cronjob', cronName]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await eventually(async () => (await runsOf()).length === 0, 60_000, 'cron runs removed');
  }, 300_000);
});
