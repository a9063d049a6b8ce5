/**
 * The supervisor loop. Triggers (a new target, the runtime poll, a backoff or window timer, a
 * probe's change, a released lock, a fired schedule, a removal that ended) run rounds that never
 * overlap and never pile up (coalescing-runner.ts). A round: observe → plan → execute → status;
 * the status goes to `onStatus` only when it differs from the last one reported.
 */
import type { ConfigRef } from '../../../src/core/config-refs.js';
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { CoalescingRunner } from './coalescing-runner.js';
import { Executor } from './execute/executor.js';
import { lookAtNode, observe } from './observe.js';
import { emptyMemory, noteConfigChanged, type PlanMemory } from './plan/memory.js';
import { anotherRoundNow, nextWake, plan, type PlanSettings } from './plan/plan.js';
import { describeStep, PHASE } from './plan/steps.js';
import { Prober } from './prober.js';
import { statusReport, type StatusReport } from './report.js';
import { deepEqual } from './status.js';
import { planSettings, type DesiredState, type ReconcilerOptions, type TriggerReason } from './reconciler-options.js';
import { WakeTimers } from './wake-timers.js';

export type { StatusReport } from './report.js';
export type { DesiredState, ReconcilerOptions, TriggerReason } from './reconciler-options.js';

export class Reconciler {
  /** Runs the containers' probes; its readiness and restarts come back through `trigger('probe')`. */
  readonly prober: Prober;
  private readonly opts: ReconcilerOptions;
  private readonly log: Logger;
  private readonly settings: PlanSettings;
  private readonly executor: Executor;
  private readonly rounds: CoalescingRunner<TriggerReason>;
  private readonly memory: PlanMemory = emptyMemory();
  private desired: DesiredState | undefined;
  private lastReport: StatusReport | undefined;
  private readonly timers: WakeTimers;

  constructor(options: ReconcilerOptions) {
    const { runtime, clock, logger, stopGraceSeconds, locks, jobs } = options;
    this.opts = options;
    this.log = logger.child({ component: 'agent-reconciler' });
    this.settings = planSettings(options);
    this.prober = new Prober({ runtime, clock, logger, onChange: () => void this.trigger('probe'), ...(stopGraceSeconds !== undefined ? { stopGraceSeconds } : {}) });
    const ports = { prober: this.prober, ...(locks ? { locks } : {}), ...(jobs ? { jobs } : {}) };
    this.executor = new Executor({ runtime, clock, logger, backoff: this.settings.backoff, ...ports, ...(stopGraceSeconds !== undefined ? { stopGraceSeconds } : {}), wake: (reason) => void this.trigger(reason) });
    this.rounds = new CoalescingRunner((reason) => this.round(reason), () => clock.now(), (reason, err) => this.log.warn({ reason, err: errorMessage(err) }, 'reconcile failed'));
    this.timers = new WakeTimers(clock, () => void this.trigger('poll'), () => void this.trigger('retry'));
  }

  /** Completed rounds, for tests and metrics. */
  get runs(): number {
    return this.rounds.runs;
  }

  /** The target being reconciled towards (undefined until one is known). */
  target(): DesiredState | undefined {
    return this.desired;
  }

  /** The last status handed to onStatus. */
  status(): StatusReport | undefined {
    return this.lastReport;
  }

  setTarget(desired: DesiredState): Promise<void> {
    this.desired = desired;
    return this.trigger('target');
  }

  /** The Job records kept in the store by an earlier agent: before the first round, so a finished Job does not run again. */
  async loadJobRecords(): Promise<void> {
    if (this.opts.jobs) this.memory.jobs = await this.opts.jobs.load();
  }

  /** ConfigMaps/Secrets arrived or changed: the next round rewrites their files and retries the pods that lacked them. */
  configChanged(changed: readonly ConfigRef[]): Promise<void> {
    noteConfigChanged(this.memory, changed);
    return this.trigger('config');
  }

  /** Starts the poll timer. Rounds happen only on triggers before this. */
  start(): void {
    this.rounds.resume();
    this.timers.startPolling((this.opts.pollSeconds ?? 5) * 1000);
  }

  /** Resolves when the round that covers this trigger has finished. */
  trigger(reason: TriggerReason): Promise<void> {
    return this.rounds.trigger(reason);
  }

  /** Resolves once no round is running or queued. */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  async stop(): Promise<void> {
    this.rounds.stop();
    this.timers.stop();
    this.prober.stop();
    this.opts.locks?.close();
    this.opts.jobs?.stop();
    await this.idle();
  }

  /** How long the running round has been going; 0 while idle. */
  busyForMs(): number {
    return this.rounds.busyForMs();
  }

  private async round(reason: TriggerReason): Promise<void> {
    const desired = this.desired;
    // No target known yet (fresh node): leave every container alone rather than guess.
    if (!desired) return;
    const { runtime, clock, locks } = this.opts;
    const before = await observe(runtime, locks, this.prober, () => clock.now());
    const planned = plan(before, desired.pods, this.memory, this.settings);
    const actions = planned.steps.filter((s) => PHASE[s.type] !== 'settle' && PHASE[s.type] !== 'bookkeeping');
    if (actions.length > 0) this.log.debug({ reason, revision: desired.revision, steps: actions.map(describeStep) }, 'reconciling');
    const { results, after } = await this.executor.execute(planned.steps, { memory: this.memory, before, observe: () => lookAtNode(runtime) });
    if (anotherRoundNow(planned, results, after.containers)) void this.trigger('init');
    this.publish(statusReport(desired.revision, desired.pods, planned, after.containers, this.memory, this.prober));
    this.timers.wakeAt(nextWake(planned, this.memory, after.containers, clock.now()));
  }

  private publish(report: StatusReport): void {
    if (deepEqual(report, this.lastReport)) return;
    this.lastReport = report;
    try {
      this.opts.onStatus(report);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'status listener failed');
    }
  }
}
