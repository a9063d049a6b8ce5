/**
 * The Job / CronJob runner: the stateful glue around decide.ts. Each reconcile it turns the
 * target's Job and CronJob pods into the run pods the planner should see (expand), and folds
 * the runs' statuses back into one status per target pod (fold). Records live in the agent's
 * own store under jobs/<pod>, so a finished Job is not run again after an agent restart and a
 * CronJob's history survives one.
 *
 * CronJob schedules are evaluated here, on the node, with node-cron: a firing only needs the
 * stored target and the local runtime, so runs happen while the server or broker is down.
 */
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { PodStatus, PodTarget } from '../../../../src/core/wire-types.js';
import type { Store, StoreOp } from '../../../../src/store/store.js';
import type { Clock, TimerHandle } from '../../../../src/core/clock.js';
import type { ManagedContainer } from '../node-runtime.js';
import { deepEqual } from '../status.js';
import { advanceCron, advanceJob, cronStatus, fireCron, jobStatus, newJob, observeRun, runPods, type JobRecord, type PodJobRecord } from './decide.js';

export const JOB_KEY_PREFIX = 'jobs/';

export interface CronTask {
  stop(): void;
}

/** Starts calling `fire` on the schedule; node-cron in production, a stub in tests. */
export type CronScheduler = (schedule: string, timeZone: string | undefined, fire: () => void) => CronTask;

/**
 * node-cron is loaded on the first CronJob only (about 3 MiB of RSS an agent without one does not
 * pay). The schedule was validated at apply and on the wire, so the late start cannot fail on it.
 */
export const nodeCronScheduler: CronScheduler = (schedule, timeZone, fire) => {
  let stopped = false;
  let task: { destroy(): unknown } | undefined;
  void import('node-cron').then(({ default: cron }) => {
    if (stopped) return;
    const created = cron.createTask(schedule, () => fire(), { ...(timeZone ? { timezone: timeZone } : {}), unref: true });
    task = created;
    void created.start();
  });
  return {
    stop: () => {
      stopped = true;
      void task?.destroy();
    },
  };
};

export interface JobRunnerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Asks for a reconcile (a schedule fired, a deadline or backoff is due). */
  trigger: () => void;
  scheduler?: CronScheduler;
}

interface ScheduledCron {
  key: string;
  task: CronTask;
}

export class JobRunner {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly trigger: () => void;
  private readonly scheduler: CronScheduler;
  private readonly records = new Map<string, PodJobRecord>();
  /** Firings not yet taken in by a reconcile, and how many were taken before. */
  private readonly fires = new Map<string, number[]>();
  private readonly fired = new Map<string, number>();
  private readonly tasks = new Map<string, ScheduledCron>();
  private wake: { handle: TimerHandle; at: number } | undefined;
  private stopped = false;

  constructor(options: JobRunnerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-jobs' });
    this.trigger = options.trigger;
    this.scheduler = options.scheduler ?? nodeCronScheduler;
  }

  /** Reads the records kept from earlier runs of the agent (the store must be open). */
  async load(): Promise<void> {
    for (const entry of await this.store.list<PodJobRecord>(JOB_KEY_PREFIX)) {
      const rec = entry.value;
      if (rec && typeof rec.pod === 'string' && typeof rec.templateHash === 'string') this.records.set(rec.pod, rec);
    }
  }

  /** How often the pod's schedule has fired since the agent started (tests, logs). */
  firedCount(pod: string): number {
    return (this.fired.get(pod) ?? 0) + (this.fires.get(pod)?.length ?? 0);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.tasks.values()) t.task.stop();
    this.tasks.clear();
    if (this.wake) this.clock.clearTimeout(this.wake.handle);
    this.wake = undefined;
  }

  /** The target with each Job / CronJob pod replaced by its run pods; records updated and kept. */
  async expand(target: readonly PodTarget[], current: readonly ManagedContainer[]): Promise<PodTarget[]> {
    const now = this.clock.now();
    const out: PodTarget[] = [];
    const ops: StoreOp[] = [];
    let wakeAt: number | undefined;
    const seen = new Set<string>();
    for (const pod of target) {
      if (!pod.job || seen.has(pod.name)) {
        if (!pod.job) out.push(pod);
        continue;
      }
      seen.add(pod.name);
      const old = this.records.get(pod.name);
      const rec: PodJobRecord = old && old.templateHash === pod.templateHash ? old : { pod: pod.name, templateHash: pod.templateHash };
      const observe = (run: string) => observeRun(pod, run, current);
      let next: PodJobRecord;
      let due: number | undefined;
      if (pod.cron) {
        this.syncSchedule(pod);
        let cronRec = rec.cron ?? { jobs: [] };
        for (const at of this.takeFires(pod.name)) {
          const fired = fireCron(pod.name, pod.cron, cronRec, at);
          cronRec = fired.record;
          this.log.info({ pod: pod.name, at: new Date(at).toISOString(), ...fired.outcome }, 'schedule fired');
        }
        const step = advanceCron(pod.job, pod.cron, cronRec, observe, now);
        next = { pod: pod.name, templateHash: pod.templateHash, cron: step.record };
        due = step.wakeAt;
        for (const job of step.record.jobs) out.push(...runPods(pod, job, current));
      } else {
        const step = advanceJob(pod.job, rec.job ?? newJob(pod.name, now), observe, now);
        next = { pod: pod.name, templateHash: pod.templateHash, job: step.record };
        due = step.wakeAt;
        this.logTransition(pod.name, rec.job, step.record);
        out.push(...runPods(pod, step.record, current));
      }
      if (due !== undefined && (wakeAt === undefined || due < wakeAt)) wakeAt = due;
      if (!deepEqual(next, old)) ops.push({ type: 'put', key: JOB_KEY_PREFIX + pod.name, value: next });
      this.records.set(pod.name, next);
    }
    await this.forget(seen, ops);
    this.scheduleWake(wakeAt);
    return out;
  }

  /** One status per target pod: a Job / CronJob pod's from its newest run plus its job status. */
  fold(target: readonly PodTarget[], runs: readonly PodStatus[]): PodStatus[] {
    const byName = new Map(runs.map((s) => [s.name, s]));
    const out: PodStatus[] = [];
    const seen = new Set<string>();
    for (const pod of target) {
      if (seen.has(pod.name)) continue;
      seen.add(pod.name);
      const rec = this.records.get(pod.name);
      if (!pod.job || !rec) {
        const s = byName.get(pod.name);
        if (s) out.push(s);
        continue;
      }
      const jobs: JobRecord[] = rec.cron ? rec.cron.jobs : rec.job ? [rec.job] : [];
      const newest = jobs.flatMap((j) => j.runs).map((r) => byName.get(r.name)).filter((s): s is PodStatus => s !== undefined).pop();
      const base = { name: pod.name, app: pod.app, templateHash: pod.templateHash };
      const containers = newest?.containers ?? [];
      const restarts = jobs.flatMap((j) => j.runs).reduce((n, r) => n + (byName.get(r.name)?.restarts ?? 0), 0);
      if (rec.cron) {
        // A CronJob pod is the schedule itself: running (ready) as long as it is on the node.
        out.push({ ...base, phase: 'Running', ready: true, restarts, containers, job: cronStatus(rec.cron) });
        continue;
      }
      const job = rec.job!;
      const phase = job.condition === 'Complete' ? 'Succeeded' : job.condition === 'Failed' ? 'Failed' : newest?.phase === 'Pending' ? 'Pending' : 'Running';
      out.push({ ...base, phase, ready: phase === 'Running' && newest?.ready === true, restarts, containers, job: jobStatus(job) });
    }
    return out;
  }

  private logTransition(pod: string, before: JobRecord | undefined, after: JobRecord): void {
    if (after.condition && before?.condition !== after.condition) {
      this.log.info({ pod, condition: after.condition, reason: after.reason, succeeded: after.succeeded, failed: after.failed }, 'job finished');
    }
  }

  private takeFires(pod: string): number[] {
    const list = this.fires.get(pod) ?? [];
    this.fires.set(pod, []);
    this.fired.set(pod, (this.fired.get(pod) ?? 0) + list.length);
    return list;
  }

  /** (Re)creates the pod's node-cron task when its schedule, zone or suspension changed. */
  private syncSchedule(pod: PodTarget): void {
    const spec = pod.cron!;
    const key = `${spec.schedule}|${spec.timeZone ?? ''}|${spec.suspend}`;
    const existing = this.tasks.get(pod.name);
    if (existing?.key === key || this.stopped) return;
    existing?.task.stop();
    this.tasks.delete(pod.name);
    if (spec.suspend) return;
    try {
      const task = this.scheduler(spec.schedule, spec.timeZone, () => {
        const list = this.fires.get(pod.name) ?? [];
        list.push(this.clock.now());
        this.fires.set(pod.name, list);
        this.trigger();
      });
      this.tasks.set(pod.name, { key, task });
    } catch (err) {
      // The server checked the expression; an agent whose node-cron disagrees says so and skips.
      this.log.error({ pod: pod.name, schedule: spec.schedule, err: errorMessage(err) }, 'cannot schedule CronJob');
      this.tasks.set(pod.name, { key, task: { stop: () => undefined } });
    }
  }

  /** Records and schedules of pods no longer in the target go (their run containers go with the plan). */
  private async forget(keep: ReadonlySet<string>, ops: StoreOp[]): Promise<void> {
    for (const pod of [...this.records.keys()]) {
      if (keep.has(pod)) continue;
      this.records.delete(pod);
      this.fires.delete(pod);
      ops.push({ type: 'delete', key: JOB_KEY_PREFIX + pod });
    }
    for (const [pod, t] of [...this.tasks]) {
      if (keep.has(pod)) continue;
      t.task.stop();
      this.tasks.delete(pod);
    }
    if (ops.length > 0) await this.store.commit(ops);
  }

  private scheduleWake(at: number | undefined): void {
    if (this.stopped || this.wake?.at === at) return;
    if (this.wake) this.clock.clearTimeout(this.wake.handle);
    this.wake = undefined;
    if (at === undefined) return;
    const handle = this.clock.setTimeout(() => {
      this.wake = undefined;
      this.trigger();
    }, at - this.clock.now());
    this.wake = { handle, at };
  }
}
