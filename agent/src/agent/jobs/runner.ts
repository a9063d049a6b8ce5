/**
 * The Job / CronJob runner: what the plan's Job part (plan/jobs.ts) needs done outside memory.
 * Records live in the agent's own store under jobs/<pod>, so a finished Job is not run again
 * after an agent restart and a CronJob's history survives one.
 *
 * CronJob schedules are evaluated here, on the node, with node-cron: a firing only needs the
 * stored target and the local runtime, so runs happen while the server or broker is down. A
 * firing is handed to the caller (the reconciler notes it in memory and plans a round).
 */
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { CronSpec } from '../../../../src/core/resolved-pod.js';
import type { Store, StoreOp } from '../../../../src/store/store.js';
import type { Clock } from '../../../../src/core/clock.js';
import type { PodJobRecord } from './decide.js';

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
  scheduler?: CronScheduler;
}

export class JobRunner {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly scheduler: CronScheduler;
  private readonly tasks = new Map<string, CronTask>();
  private readonly fired = new Map<string, number>();
  private stopped = false;

  constructor(options: JobRunnerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-jobs' });
    this.scheduler = options.scheduler ?? nodeCronScheduler;
  }

  /** The records kept from earlier runs of the agent (the store must be open). */
  async load(): Promise<Map<string, PodJobRecord>> {
    const records = new Map<string, PodJobRecord>();
    for (const entry of await this.store.list<PodJobRecord>(JOB_KEY_PREFIX)) {
      const rec = entry.value;
      if (rec && typeof rec.pod === 'string' && typeof rec.templateHash === 'string') records.set(rec.pod, rec);
    }
    return records;
  }

  /** Keeps changed records and drops those of pods that left, in one commit. */
  async save(put: readonly PodJobRecord[], remove: readonly string[]): Promise<void> {
    const ops: StoreOp[] = [...put.map((rec): StoreOp => ({ type: 'put', key: JOB_KEY_PREFIX + rec.pod, value: rec })), ...remove.map((pod): StoreOp => ({ type: 'delete', key: JOB_KEY_PREFIX + pod }))];
    if (ops.length > 0) await this.store.commit(ops);
  }

  /** (Re)starts a CronJob pod's schedule; `fire` gets the firing time. Nothing after stop(). */
  schedule(pod: string, cron: CronSpec, fire: (at: number) => void): void {
    this.unschedule(pod);
    if (cron.suspend || this.stopped) return;
    try {
      const task = this.scheduler(cron.schedule, cron.timeZone, () => {
        this.fired.set(pod, (this.fired.get(pod) ?? 0) + 1);
        fire(this.clock.now());
      });
      this.tasks.set(pod, task);
    } catch (err) {
      // The server checked the expression; an agent whose node-cron disagrees says so and skips.
      this.log.error({ pod, schedule: cron.schedule, err: errorMessage(err) }, 'cannot schedule CronJob');
    }
  }

  unschedule(pod: string): void {
    this.tasks.get(pod)?.stop();
    this.tasks.delete(pod);
  }

  /** How often the pod's schedule has fired since the agent started (tests, logs). */
  firedCount(pod: string): number {
    return this.fired.get(pod) ?? 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.tasks.values()) t.stop();
    this.tasks.clear();
  }
}
