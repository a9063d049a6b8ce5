/**
 * The executor: performs a plan's steps in plan order through ONE typed handler table
 * (handlers.ts), and turns their outcomes into memory — a failure and its backoff under the
 * work's typed id, the end of a failure, a removal in flight.
 *
 * - A step whose needs are not met is skipped (steps.ts Need): a container whose sandbox step
 *   failed this round does not start; nor does a new container of an app whose old ones are
 *   still being removed.
 * - Removals run side by side (at most REMOVAL_CONCURRENCY at once) and in the background: the
 *   executor waits for them only `removalWaitMs` before going on, so a container with a long
 *   stop grace never stalls the round; a removal that outlives its round calls `wake('removed')`
 *   when it ends, for another round.
 * - Settling steps see the node as it is after the round's actions (`after`, looked at once).
 */
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { Clock } from '../../../../src/core/clock.js';
import type { JobRunner } from '../jobs/runner.js';
import type { NodeRuntime } from '../node-runtime.js';
import { DEFAULT_BACKOFF, failedAgain, type BackoffPolicy } from '../plan/backoff.js';
import { isRemoving, type PlanMemory } from '../plan/memory.js';
import { PHASE, workKey, workOf, type Need, type Step, type StepOf, type StepResult } from '../plan/steps.js';
import type { Prober } from '../prober.js';
import type { UpdateLocks } from '../update-locks.js';
import type { ExecContext, Handler, NodeAfter, Outcome, WakeReason } from './context.js';
import { HANDLERS } from './handlers.js';

/** Removals (stop + remove) in flight at once. */
export const REMOVAL_CONCURRENCY = 4;

export interface ExecutorOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  /** Backoff of failed work: its first delay and cap (the restart series is the plan's). */
  backoff?: Partial<BackoffPolicy>;
  /**
   * SIGTERM → SIGKILL grace when removing a running container whose pod set no
   * terminationGracePeriodSeconds (default 30 s, Kubernetes' default).
   */
  stopGraceSeconds?: number;
  /** How long execute() waits for its removals before going on without them (default 2 s). */
  removalWaitMs?: number;
  prober?: Prober;
  locks?: UpdateLocks;
  jobs?: JobRunner;
  /** Asks for another round: a removal that outlived its round ended, a lock was released, a schedule fired. */
  wake?: (reason: WakeReason | 'removed') => void;
}

export interface Round {
  memory: PlanMemory;
  /** The look the round was planned from: what `after` is when no action ran. */
  before: NodeAfter;
  /** Looks at the node again. */
  observe(): Promise<NodeAfter>;
}

export interface Executed {
  results: StepResult[];
  /** The node as it is after the round. */
  after: NodeAfter;
}

export class Executor {
  private readonly runtime: NodeRuntime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly grace: number;
  private readonly removalWaitMs: number;
  private readonly ports: Pick<ExecContext, 'prober' | 'locks' | 'jobs'>;
  private readonly wake: (reason: WakeReason | 'removed') => void;
  private removalQueue: (() => Promise<void>)[] = [];
  private removalsRunning = 0;

  constructor(options: ExecutorOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-executor' });
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.grace = options.stopGraceSeconds ?? 30;
    this.removalWaitMs = options.removalWaitMs ?? 2000;
    this.ports = { ...(options.prober ? { prober: options.prober } : {}), ...(options.locks ? { locks: options.locks } : {}), ...(options.jobs ? { jobs: options.jobs } : {}) };
    this.wake = options.wake ?? (() => undefined);
  }

  async execute(steps: readonly Step[], round: Round): Promise<Executed> {
    const acted = steps.some((s) => PHASE[s.type] !== 'bookkeeping' && PHASE[s.type] !== 'settle');
    let after: Promise<NodeAfter> | undefined;
    const ctx: ExecContext = {
      runtime: this.runtime,
      memory: round.memory,
      log: this.log,
      now: () => this.clock.now(),
      stopGraceSeconds: this.grace,
      after: () => (after ??= acted ? round.observe() : Promise.resolve(round.before)),
      wake: (reason) => this.wake(reason),
      ...this.ports,
    };
    const results: StepResult[] = new Array<StepResult>(steps.length);
    const succeeded = new Set<string>();
    const state = { over: false };
    const removals: Promise<void>[] = [];
    for (const [i, step] of steps.entries()) {
      if (step.type === 'remove-container') {
        removals.push(this.removeInBackground(step, ctx, state).then((r) => void (results[i] = r)));
        continue;
      }
      if (removals.length > 0 && !state.over) await this.endRemovalWait(removals, state, round.memory);
      if (!this.satisfied('needs' in step ? step.needs : undefined, succeeded, round.memory)) {
        results[i] = { step, ok: false, skipped: true };
        continue;
      }
      const result = await this.perform(step, ctx);
      if (result.ok) {
        const work = workOf(step);
        if (work) succeeded.add(workKey(work));
      }
      results[i] = result;
    }
    if (removals.length > 0 && !state.over) await this.endRemovalWait(removals, state, round.memory);
    state.over = true;
    // A removal still stopping reports as skipped; its end asks for the next round.
    return { results: steps.map((step, i) => results[i] ?? { step, ok: false, skipped: true }), after: await ctx.after() };
  }

  private satisfied(needs: readonly Need[] | undefined, succeeded: ReadonlySet<string>, memory: PlanMemory): boolean {
    return (needs ?? []).every((n) => (n.kind === 'sandbox' ? succeeded.has(workKey({ kind: 'sandbox', pod: n.pod })) : !isRemoving(memory, n.app)));
  }

  /** Waits for this round's removals, at most removalWaitMs of the clock. */
  private async endRemovalWait(removals: Promise<void>[], state: { over: boolean }, memory: PlanMemory): Promise<void> {
    const ended = await new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), this.removalWaitMs);
      void Promise.all(removals).then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ended) this.log.info({ pending: memory.removing.size }, 'removals still stopping, going on without them');
    state.over = true;
  }

  private removeInBackground(step: StepOf<'remove-container'>, ctx: ExecContext, round: { over: boolean }): Promise<StepResult> {
    ctx.memory.removing.set(step.id, step.app);
    return new Promise((resolve) => {
      this.removalQueue.push(async () => {
        const res = await this.perform(step, ctx);
        ctx.memory.removing.delete(step.id);
        resolve(res);
        if (round.over) this.wake('removed');
      });
      this.pumpRemovals();
    });
  }

  private pumpRemovals(): void {
    while (this.removalsRunning < REMOVAL_CONCURRENCY && this.removalQueue.length > 0) {
      const job = this.removalQueue.shift()!;
      this.removalsRunning++;
      void job().finally(() => {
        this.removalsRunning--;
        this.pumpRemovals();
      });
    }
  }

  /** Runs the step's handler and records its outcome in memory. */
  private async perform(step: Step, ctx: ExecContext): Promise<StepResult> {
    let outcome: Outcome;
    try {
      outcome = await (HANDLERS[step.type] as Handler<Step>)(step, ctx);
    } catch (err) {
      // A handler lets through only what it did not expect; the round goes on without the step.
      this.log.warn({ step: step.type, err: errorMessage(err) }, 'step failed');
      return { step, ok: false, error: errorMessage(err) };
    }
    const { memory } = ctx;
    if (outcome.clears) memory.failures.delete(workKey(outcome.clears));
    if (outcome.failed) {
      const { work, reason, err, prefix } = outcome.failed;
      const key = workKey(work);
      const failure = failedAgain(memory.failures.get(key), work, reason, err, this.clock.now(), this.backoff, prefix);
      memory.failures.set(key, failure);
      this.log.warn({ work, reason, failures: failure.failures, retryInMs: failure.retryAt - this.clock.now(), err: errorMessage(err) }, 'step failed, backing off');
    }
    return {
      step,
      ok: outcome.ok,
      ...(outcome.skipped ? { skipped: true } : {}),
      ...(outcome.failed ? { error: errorMessage(outcome.failed.err) } : {}),
    };
  }
}
