import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KindObject } from '../../src/core/objects/validate.js';
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

type Job = KindObject<'Job'>;
type CronJob = KindObject<'CronJob'>;

/** The condition of `type` when it is True (Complete, Failed). */
const trueCondition = (job: Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

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
  const job = (name: string) => cluster.json<Job>(['get', 'job', name]);
  /** The Jobs a CronJob made (its runs the node reported), from `grove get jobs -o json`. */
  const runsRecorded = async (cron: string) =>
    (await cluster.json<{ items: Job[] }>(['get', 'jobs'])).items.filter((j) => j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === cron));
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
      const j = await job(jobName);
      return trueCondition(j, 'Complete') ? j : undefined;
    }, 120_000, 'job complete');
    console.log(`[figure] Job ${jobName}: apply → Complete in ${((Date.now() - started) / 1000).toFixed(1)} s (image pull included)`);
    expect(done.status).toMatchObject({ succeeded: 1, failed: 0, active: 0 });
    const table = await cluster.grove(['get', 'jobs']);
    expect(table.stdout).toMatch(/NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`${jobName}\\s+Complete\\s+1/1\\s+\\d+s\\s+\\S+`));
    // It ran on the node: its pod is bound there and Succeeded (get pods -o wide's NODE).
    expect((await cluster.pods(jobName)).map((p) => [p.node, p.phase])).toEqual([['node-a', 'Succeeded']]);
    const described = await cluster.grove(['describe', 'job', jobName]);
    expect(described.stdout).toMatch(/Status:\s+Complete \(1\/1 completions\)/);
    expect(described.stdout).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);

    const before = (await containers()).filter((c) => c.labels['grove.app'] === jobName);
    expect(before.map((c) => [c.state, c.exitCode])).toEqual([['exited', 0]]);

    await cluster.killAgent('node-a');
    await cluster.startAgent('node-a');
    await cluster.waitForNodesReady(['node-a']);
    // Several reconciles (poll every 5 s) after the restart: nothing may have started again.
    await new Promise((r) => setTimeout(r, 12_000));
    const after = (await containers()).filter((c) => c.labels['grove.app'] === jobName);
    expect(after.map((c) => [c.name, c.startedAt])).toEqual(before.map((c) => [c.name, c.startedAt]));
    const afterRestart = await job(jobName);
    expect(trueCondition(afterRestart, 'Complete')).toBeDefined();
    expect(afterRestart.status).toMatchObject({ succeeded: 1, failed: 0, active: 0 });
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
    const done = await eventually(async () => (await job(name)).status?.completionTime, 120_000, 'ttl job complete');
    await eventually(async () => {
      const r = await cluster.grove(['get', 'job', name]);
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
      const j = await job(name);
      return trueCondition(j, 'Failed') ? j : undefined;
    }, 120_000, 'job failed by its deadline');
    const condition = trueCondition(failed, 'Failed')!;
    expect(condition.reason).toBe('DeadlineExceeded');
    expect(failed.status).toMatchObject({ active: 0 });
    // Kubernetes sets completionTime only on success: a failed Job's end is its condition's time.
    const took = (Date.parse(condition.lastTransitionTime!) - Date.parse(failed.status!.startTime!)) / 1000;
    console.log(`[figure] Job with activeDeadlineSeconds 4: failed (DeadlineExceeded) ${took.toFixed(1)} s after it started`);
    expect(took).toBeGreaterThanOrEqual(4);
    await eventually(async () => !(await containers()).some((c) => c.labels['grove.app'] === name && c.state === 'running'), 60_000, 'deadline job container stopped');
    expect((await cluster.grove(['get', 'jobs', name])).stdout).toMatch(new RegExp(`${name}\\s+Failed\\s+0/1`));
    expect((await cluster.grove(['describe', 'job', name])).stdout).toMatch(/Failed:\s+DeadlineExceeded: Job was active longer than specified deadline/);
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
    await eventually(async () => {
      const last = (await cluster.json<CronJob>(['get', 'cronjob', cronName])).status?.lastScheduleTime;
      return last !== undefined && Date.parse(last) > downAt;
    }, 60_000, 'cron status after the outage');
    // The runs the node made while the server was away appear as Jobs owned by the CronJob.
    const succeeded = await eventually(async () => {
      const ok = (await runsRecorded(cronName)).filter((j) => trueCondition(j, 'Complete'));
      return ok.length >= 2 ? ok : undefined;
    }, 60_000, 'the completed runs recorded as Jobs');
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    // The CronJob is bound to the node that fires it.
    const cronPods = await cluster.pods(cronName);
    expect(cronPods.length).toBeGreaterThan(0);
    expect(cronPods.filter((p) => p.node !== 'node-a')).toEqual([]);
    const table = await cluster.grove(['get', 'cronjobs']);
    expect(table.stdout).toMatch(/NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`${cronName}\\s+\\*/2 \\* \\* \\* \\* \\*\\s+<none>\\s+False\\s+[01]\\s+\\S+`));

    const described = await cluster.grove(['describe', 'cronjob', cronName]);
    expect(described.stdout).toMatch(/Schedule:\s+\*\/2 \* \* \* \* \*/);
    expect(described.stdout).toMatch(/Concurrency Policy:\s+Forbid/);
    expect(described.stdout).toMatch(/Jobs:\n\s+Name\s+Status\s+Completions/);
    expect(described.stdout).toContain(succeeded[0]!.metadata.name);
    // `grove logs` of a CronJob serves its newest run.
    const logs = await cluster.grove(['logs', cronName]);
    expect(logs.stdout, logs.stderr).toContain('tick');

    const deleted = await cluster.grove(['delete', 'cronjob', cronName]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await eventually(async () => (await runsOf()).length === 0, 60_000, 'cron runs removed');
  }, 300_000);
});
