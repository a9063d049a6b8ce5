/**
 * The supervisor loop. Triggers (a new target, the runtime poll, a backoff retry timer) never
 * run reconciles in parallel and never pile up: while one runs, at most one more is queued and
 * every trigger in the meantime joins that queued run. Each run lists the managed containers,
 * plans, executes, lists again and derives the status, which goes to `onStatus` only when it
 * differs from the last one reported.
 */
import { collectConfigRefs, refKey, type ConfigKind } from '../../../src/core/config-refs.js';
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { DeferredUpdate, PodStatus, PodTarget } from '../../../src/core/wire-types.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import { Executor } from './executor.js';
import type { JobRunner } from './jobs/runner.js';
import { Labels, podContainerKey, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
import { plan } from './planner.js';
import { allContainersOf, initEndedDuringRound, initWatchAt } from './init-order.js';
import { dependencyWaits, heldByDependency, markDependencyWaits } from './depends-on.js';
import { Prober } from './prober.js';
import { deepEqual, deriveStatus } from './status.js';
import { gateSteps, markDeferred, type GateResult, type Hold } from './update-gate.js';
import { SandboxRound } from './sandbox-round.js';
import { sandboxKey } from './sandbox-plan.js';
import type { UpdateLocks } from './update-locks.js';

export interface DesiredState {
  revision: number;
  pods: PodTarget[];
}

export interface StatusReport {
  observedRevision: number;
  pods: PodStatus[];
  /** Apps whose update is held back (window, lock); absent when none. */
  deferred?: DeferredUpdate[];
}

export type TriggerReason = 'start' | 'target' | 'poll' | 'retry' | 'manual' | 'probe' | 'lock' | 'removed' | 'job' | 'init' | 'config';

/** Default lock maximum for apps without grove.io/update-lock-max (1 h). */
export const DEFAULT_LOCK_MAX_SECONDS = 3600;

/** Longest single timer the reconciler arms (setTimeout overflows past ~24.8 days). */
const MAX_WAKE_MS = 3600_000;

export interface ReconcilerOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  onStatus: (report: StatusReport) => void;
  /** How often the runtime is looked at for exits nobody told us about. */
  pollSeconds?: number;
  executor?: Executor;
  /** Default stop grace for pods without terminationGracePeriodSeconds (Executor: 30 s). */
  stopGraceSeconds?: number;
  /** Update locks of the node's apps (update-locks.ts); without them no app is ever locked. */
  locks?: UpdateLocks;
  /** Lock maximum for apps that set none (default 1 h). */
  defaultLockMaxSeconds?: number;
  /** Zone update windows are read in when the app names none (default: the process's local zone). */
  timeZone?: string;
  /** Turns Job / CronJob pods into their runs (agent/src/agent/jobs); without it they run as plain pods. */
  jobs?: JobRunner;
}

export class Reconciler {
  private readonly runtime: NodeRuntime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onStatus: (report: StatusReport) => void;
  private readonly pollMs: number;
  private readonly jobs: JobRunner | undefined;
  readonly executor: Executor;
  /** Runs the containers' probes; its readiness and restarts come back through `trigger('probe')`. */
  readonly prober: Prober;
  private desired: DesiredState | undefined;
  private lastReport: StatusReport | undefined;
  private active: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private pollTimer: TimerHandle | undefined;
  private retryTimer: { handle: TimerHandle; at: number } | undefined;
  private stopped = false;
  /** When the running reconcile started (undefined while idle): a watchdog's view of progress. */
  private activeSince: number | undefined;
  private readonly locks: UpdateLocks | undefined;
  private readonly lockMaxSeconds: number;
  private readonly timeZone: string | undefined;
  /** Apps held back by the update gate, and since when (update-gate.ts). */
  private holds = new Map<string, Hold>();
  private gateWakeAt: number | undefined;
  /** Set while a freshly started init container runs: look again soon (init-order.ts). */
  private initWatchAt: number | undefined;
  /** The app set the lock directories were last pruned for. */
  private prunedFor: string | undefined;
  private podsSyncedFor: string | undefined;
  /** Pod sandboxes, when the runtime has them. */
  private readonly sandboxes: SandboxRound | undefined;
  /** Completed reconcile runs, for tests and metrics. */
  runs = 0;

  constructor(options: ReconcilerOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-reconciler' });
    this.onStatus = options.onStatus;
    this.pollMs = (options.pollSeconds ?? 5) * 1000;
    this.jobs = options.jobs;
    this.executor =
      options.executor ??
      new Executor({
        runtime: options.runtime,
        clock: options.clock,
        logger: options.logger,
        ...(options.stopGraceSeconds !== undefined ? { stopGraceSeconds: options.stopGraceSeconds } : {}),
      });
    this.executor.onRemovalSettled = () => void this.trigger('removed');
    this.sandboxes = options.runtime.sandboxes ? new SandboxRound(options.runtime.sandboxes, this.executor, options.logger) : undefined;
    this.locks = options.locks;
    this.lockMaxSeconds = options.defaultLockMaxSeconds ?? DEFAULT_LOCK_MAX_SECONDS;
    this.timeZone = options.timeZone;
    this.prober = new Prober({
      runtime: options.runtime,
      clock: options.clock,
      logger: options.logger,
      onChange: () => void this.trigger('probe'),
      ...(options.stopGraceSeconds !== undefined ? { stopGraceSeconds: options.stopGraceSeconds } : {}),
    });
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

  /**
   * ConfigMaps/Secrets arrived or changed: pods of the target that reference one of them and
   * failed to start for lack of it are retried now, not after their (up to 5 min) backoff.
   */
  configChanged(changed: readonly { kind: ConfigKind; name: string }[]): Promise<void> {
    const keys = new Set(changed.map(refKey));
    for (const pod of this.desired?.pods ?? []) {
      if (!collectConfigRefs([pod]).some((r) => keys.has(refKey(r)))) continue;
      for (const c of allContainersOf(pod)) this.executor.clearFailure(podContainerKey(pod.name, c.name));
    }
    return this.trigger('config');
  }

  /** Starts the poll timer. Reconciles happen only on triggers before this. */
  start(): void {
    this.stopped = false;
    this.schedulePoll();
  }

  /** Resolves when the run that covers this trigger has finished. */
  trigger(reason: TriggerReason): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.queued) return this.queued;
    if (!this.active) return this.launch(reason);
    this.queued = this.active.then(() => {
      this.queued = undefined;
      return this.stopped ? undefined : this.launch(reason);
    });
    return this.queued;
  }

  /** Resolves once no reconcile is running or queued. */
  async idle(): Promise<void> {
    while (this.active || this.queued) await (this.queued ?? this.active);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) this.clock.clearTimeout(this.pollTimer);
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer.handle);
    this.pollTimer = undefined;
    this.retryTimer = undefined;
    this.prober.stop();
    this.locks?.close();
    this.jobs?.stop();
    await this.idle();
  }

  /** How long the running reconcile has been going; 0 while idle. */
  busyForMs(): number {
    return this.activeSince === undefined ? 0 : Math.max(0, this.clock.now() - this.activeSince);
  }

  private launch(reason: TriggerReason): Promise<void> {
    this.activeSince = this.clock.now();
    const run: Promise<void> = this.reconcileOnce(reason)
      .catch((err: unknown) => {
        // A broken runtime must not kill the loop: the next trigger tries again.
        this.log.warn({ reason, err: errorMessage(err) }, 'reconcile failed');
      })
      .finally(() => {
        if (this.active === run) {
          this.active = undefined;
          this.activeSince = undefined;
        }
        this.runs += 1;
      });
    this.active = run;
    return run;
  }

  private async reconcileOnce(reason: TriggerReason): Promise<void> {
    const desired = this.desired;
    // No target known yet (fresh node): leave every container alone rather than guess.
    if (!desired) return;
    let current = await this.runtime.list();
    // Job and CronJob pods become the runs they need now; everything below plans those.
    const pods = this.jobs ? await this.jobs.expand(desired.pods, current) : desired.pods;
    // compose depends_on: pods whose dependencies on this node are not met yet wait (depends-on.ts).
    const waits = dependencyWaits(pods, pods.some((p) => p.dependsOn) ? deriveStatus(pods, current, (key) => this.executor.failure(key), this.prober) : []);
    const dependencyHeld = heldByDependency(waits);
    const gate = await this.gate(plan(current, pods, { held: (key) => this.executor.isHeld(key) || dependencyHeld(key) }), current, pods);
    // Sandboxes first: a pod's containers start only inside its ready sandbox.
    const steps = this.sandboxes ? await this.sandboxes.prepare(current, pods, gate.run) : gate.run;
    if (steps.length > 0) {
      this.log.debug({ reason, revision: desired.revision, steps: steps.map(describeStep) }, 'reconciling');
      const started = (await this.executor.execute(steps, current)).filter((r) => r.ok && r.step.type !== 'remove').map((r) => r.step);
      current = await this.runtime.list();
      // A quick init container already done: the next container of its pod starts now, not at the
      // next poll. So does a pod waiting for one that this round started (its dependency may be met).
      if (initEndedDuringRound(started, current) || (waits.size > 0 && started.length > 0)) void this.trigger('init');
    }
    await this.sandboxes?.refreshHosts();
    await this.pruneLocks(desired.pods, current);
    await this.syncPods(pods, current);
    const keys = new Set(pods.flatMap((p) => allContainersOf(p).map((c) => podContainerKey(p.name, c.name))));
    for (const p of pods) keys.add(sandboxKey(p.name));
    this.executor.retain(keys, new Set(current.map((c) => c.id)));
    if (!this.stopped) this.prober.sync(pods, current);
    this.initWatchAt = initWatchAt(pods, current, this.clock.now());
    const statuses = withPodIPs(markDependencyWaits(deriveStatus(pods, current, (key) => this.executor.failure(key), this.prober), waits), this.sandboxes);
    const report: StatusReport = {
      observedRevision: desired.revision,
      pods: markDeferred(this.jobs ? this.jobs.fold(desired.pods, statuses) : statuses, gate.deferred),
      ...(gate.deferred.length > 0 ? { deferred: gate.deferred } : {}),
    };
    if (!deepEqual(report, this.lastReport)) {
      this.lastReport = report;
      try {
        this.onStatus(report);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'status listener failed');
      }
    }
    this.scheduleRetry();
  }

  /**
   * Holds back the steps an update window or lock forbids now (update-gate.ts). Lock files are
   * read only for apps the plan would update or stop, and watched while held.
   */
  private async gate(planned: ReturnType<typeof plan>, current: ManagedContainer[], target: PodTarget[]): Promise<GateResult> {
    const byId = new Map(current.map((c) => [c.id, c]));
    const runningHashes = new Map<string, Set<string>>();
    for (const c of current) {
      if (c.state !== 'running') continue;
      const app = c.labels[Labels.app];
      runningHashes.set(app, (runningHashes.get(app) ?? new Set()).add(c.labels[Labels.templateHash]));
    }
    // Apps the plan would stop a running container of, or start a new revision of beside an
    // older one that runs (a rolling update's surge pod): only their lock files matter.
    const stopping = new Set<string>();
    for (const s of planned) {
      const c = s.type === 'remove' ? byId.get(s.id) : undefined;
      if (c?.state === 'running') stopping.add(c.labels[Labels.app]);
      if (s.type === 'remove') continue;
      const hashes = runningHashes.get(s.pod.app);
      if (hashes && !hashes.has(s.pod.templateHash)) stopping.add(s.pod.app);
    }
    const lockedApps = new Set<string>();
    if (this.locks) for (const app of stopping) if (await this.locks.held(app)) lockedApps.add(app);
    const result = gateSteps({
      steps: planned,
      current,
      target,
      now: this.clock.now(),
      lockedApps,
      holds: this.holds,
      defaultLockMaxSeconds: this.lockMaxSeconds,
      ...(this.timeZone !== undefined ? { timeZone: this.timeZone } : {}),
    });
    for (const d of result.deferred) {
      if (this.holds.get(d.app)?.reason !== d.reason) this.log.info({ app: d.app, reason: d.reason, until: d.until }, `update deferred: ${d.message}`);
    }
    for (const app of this.holds.keys()) if (!result.holds.has(app)) this.log.info({ app }, 'deferred update goes ahead');
    this.holds = result.holds;
    this.gateWakeAt = result.wakeAt;
    if (this.locks && !this.stopped) this.locks.watch([...lockedApps], () => void this.trigger('lock'));
    return result;
  }

  /** Pod volume clean-up (runtime.syncPods), when the set of pods with a target or a container changes. */
  private async syncPods(target: PodTarget[], current: ManagedContainer[]): Promise<void> {
    if (!this.runtime.syncPods) return;
    const key = [...new Set([...target.map((p) => p.name), ...current.map((c) => c.labels[Labels.pod])])].sort().join('\n');
    if (key === this.podsSyncedFor) return;
    try {
      await this.runtime.syncPods(target, current);
      this.podsSyncedFor = key;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'pod volume clean-up failed');
    }
  }

  /** Drops the lock directories of apps that have nothing left on the node (when that set changes). */
  private async pruneLocks(target: PodTarget[], current: ManagedContainer[]): Promise<void> {
    if (!this.locks) return;
    const apps = new Set([...target.map((p) => p.app), ...current.map((c) => c.labels[Labels.app])]);
    const key = [...apps].sort().join('\n');
    if (key === this.prunedFor) return;
    await this.locks.prune(apps);
    this.prunedFor = key;
  }

  private schedulePoll(): void {
    if (this.stopped || this.pollMs <= 0) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      void this.trigger('poll');
      this.schedulePoll();
    }, this.pollMs);
  }

  /** Wakes up when the earliest backoff ends (a held container is retried on time), a window opens, or to watch a fresh init container. */
  private scheduleRetry(): void {
    if (this.stopped) return;
    const wakes = [this.executor.nextRetryAt(), this.gateWakeAt, this.initWatchAt].filter((t): t is number => t !== undefined);
    const at = wakes.length > 0 ? Math.min(...wakes) : undefined;
    if (this.retryTimer && this.retryTimer.at === at) return;
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer.handle);
    this.retryTimer = undefined;
    if (at === undefined) return;
    // Capped: a window weeks away must not overflow the timer (the next wake-up re-arms it).
    const handle = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.trigger('retry');
    }, Math.min(at - this.clock.now(), MAX_WAKE_MS));
    this.retryTimer = { handle, at };
  }
}

function describeStep(s: ReturnType<typeof plan>[number]): string {
  return s.type === 'remove' ? `remove ${s.id.slice(0, 12)} (${s.reason})` : `${s.type} ${s.pod.name}/${s.container.name}`;
}

/** Adds each pod's bridge address (pod sandboxes) to its status. */
function withPodIPs(statuses: PodStatus[], sandboxes: Pick<SandboxRound, 'podIP'> | undefined): PodStatus[] {
  if (!sandboxes) return statuses;
  return statuses.map((s) => {
    const ip = sandboxes.podIP(s.name);
    return ip ? { ...s, podIP: ip } : s;
  });
}
