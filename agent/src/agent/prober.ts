/**
 * The prober: runs the Kubernetes probes of the managed containers that run, on their own
 * schedule (injected clock), and turns their results into two things the reconciler uses:
 * - readiness, per container instance, which status.ts puts into the status;
 * - a stop of the container when its liveness (or startup) probe fails failureThreshold times in
 *   a row. The reconciler's next run then sees it exited and the planner restarts it like any
 *   other exit, so it counts as a restart and goes through the executor's backoff.
 * Any change of readiness, and every probe stop, calls `onChange` (the reconciler triggers a run,
 * whose status goes out only if it differs from the last one).
 *
 * One worker per container id: a new instance (restart, update) starts from scratch, as in
 * Kubernetes. The initial delay counts from the container's start, so an agent restart does not
 * wait it out again.
 */
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { Probe } from '../../../src/core/resolved-pod.js';
import { graceSecondsOf, hasProbes, mainContainers, onHostNetwork, podKey, probesOf } from './plan/pod-fields.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { Container } from '../../../src/core/objects/pod-container.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import { keyOf, Labels, podContainerKey, type ManagedContainer, type NodeRuntime, type ProbeOutcome } from './node-runtime.js';
import { runProbe } from './probe-handlers.js';
import { sidecarsOf } from './plan/init-order.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

/** What status.ts asks of the prober (a narrow, pure view). */
export interface ProbeView {
  /** Readiness of a container instance with probes; undefined = no probes (running means ready). */
  ready(id: string): boolean | undefined;
  /** Why a probe stopped this container instance, if it did. */
  stoppedBecause(id: string): string | undefined;
  /** Whether its startup probe has succeeded (or it has none); undefined = not probed. Sidecars wait for it. */
  started?(id: string): boolean | undefined;
}

export interface ProberOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  onChange: () => void;
  /** Stop grace when the pod sets none (the executor's default). */
  stopGraceSeconds?: number;
}

const LABEL: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

interface ProbeState {
  kind: ProbeKind;
  probe: Probe;
  timer?: TimerHandle;
  successes: number;
  failures: number;
}

interface Worker {
  id: string;
  key: string;
  pod: WirePodTarget;
  container: Container;
  startedAtMs: number;
  /** The startup probe has succeeded (or there is none): liveness and readiness may run. */
  started: boolean;
  ready: boolean;
  states: ProbeState[];
  disposed: boolean;
}

export class Prober implements ProbeView {
  private readonly runtime: NodeRuntime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onChange: () => void;
  private readonly stopGraceSeconds: number;
  private readonly workers = new Map<string, Worker>();
  /** Container ids a probe stopped → the reason; pruned once the instance is gone. */
  private readonly stopped = new Map<string, string>();
  private closed = false;

  constructor(options: ProberOptions) {
    this.runtime = options.runtime;
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'agent-prober' });
    this.onChange = options.onChange;
    this.stopGraceSeconds = options.stopGraceSeconds ?? 30;
  }

  ready(id: string): boolean | undefined {
    return this.workers.get(id)?.ready;
  }

  stoppedBecause(id: string): string | undefined {
    return this.stopped.get(id);
  }

  started(id: string): boolean | undefined {
    return this.workers.get(id)?.started;
  }

  /** The results as of now, as data that later probe runs do not change (a plan's input). */
  snapshot(): ProbeView {
    const ready = new Map([...this.workers].map(([id, w]) => [id, w.ready]));
    const started = new Map([...this.workers].map(([id, w]) => [id, w.started]));
    const stopped = new Map(this.stopped);
    return { ready: (id) => ready.get(id), stoppedBecause: (id) => stopped.get(id), started: (id) => started.get(id) };
  }

  /** Number of containers being probed, for tests and metrics. */
  get size(): number {
    return this.workers.size;
  }

  /**
   * Brings the workers in line with what runs: one per running container of the target that has
   * probes (and the template it was created from); every other worker is dropped.
   */
  sync(pods: readonly WirePodTarget[], current: readonly ManagedContainer[]): void {
    if (this.closed) return;
    const wanted = new Map<string, { pod: WirePodTarget; container: Container }>();
    for (const pod of pods) for (const c of [...sidecarsOf(pod), ...mainContainers(pod)]) if (hasProbes(c)) wanted.set(podContainerKey(podKey(pod), c.name), { pod, container: c });
    const live = new Set<string>();
    for (const c of current) {
      const key = keyOf(c);
      const want = wanted.get(key);
      if (c.state !== 'running' || !want || c.labels[Labels.templateHash] !== want.pod.templateHash) continue;
      // Being stopped by a probe (a graceful stop takes a while): probing it again would only stop it twice.
      if (this.stopped.has(c.id)) continue;
      live.add(c.id);
      if (!this.workers.has(c.id)) this.add(c, key, want.pod, want.container);
    }
    for (const [id, w] of this.workers) if (!live.has(id)) this.dispose(w);
    const ids = new Set(current.map((c) => c.id));
    for (const id of this.stopped.keys()) if (!ids.has(id)) this.stopped.delete(id);
  }

  /** Cancels every timer; results of checks still running are ignored, and sync() does nothing after it. */
  stop(): void {
    this.closed = true;
    for (const w of this.workers.values()) this.dispose(w);
  }

  private add(c: ManagedContainer, key: string, pod: WirePodTarget, container: Container): void {
    const probes = probesOf(container);
    const states: ProbeState[] = [];
    for (const kind of ['startup', 'liveness', 'readiness'] as const) {
      const probe = probes[kind];
      if (probe) states.push({ kind, probe, successes: 0, failures: 0 });
    }
    const started = probes.startup === undefined;
    const startedAtMs = c.startedAt ? Date.parse(c.startedAt) : this.clock.now();
    const w: Worker = {
      id: c.id,
      key,
      pod,
      container,
      startedAtMs: Number.isNaN(startedAtMs) ? this.clock.now() : startedAtMs,
      started,
      // Kubernetes: not ready until the readiness probe has succeeded; no probe → ready once started.
      ready: started && probes.readiness === undefined,
      states,
      disposed: false,
    };
    this.workers.set(c.id, w);
    for (const s of states) if (s.kind === 'startup' || started) this.schedule(w, s, this.firstDelay(w, s));
  }

  private firstDelay(w: Worker, s: ProbeState): number {
    return Math.max(0, w.startedAtMs + s.probe.initialDelaySeconds * 1000 - this.clock.now());
  }

  private dispose(w: Worker): void {
    w.disposed = true;
    for (const s of w.states) {
      if (s.timer) this.clock.clearTimeout(s.timer);
      s.timer = undefined;
    }
    this.workers.delete(w.id);
  }

  private schedule(w: Worker, s: ProbeState, ms: number): void {
    if (w.disposed) return;
    s.timer = this.clock.setTimeout(() => {
      s.timer = undefined;
      void this.run(w, s);
    }, ms);
  }

  private async run(w: Worker, s: ProbeState): Promise<void> {
    let outcome: ProbeOutcome;
    try {
      outcome = await runProbe(this.runtime, w.id, s.probe, { timeoutMs: s.probe.timeoutSeconds * 1000, hostNetwork: onHostNetwork(w.pod) });
    } catch (err) {
      // The check could not even run (container gone, runtime broken): a failure, as in Kubernetes.
      outcome = { ok: false, message: errorMessage(err) };
    }
    if (w.disposed) return;
    if (outcome.ok) {
      s.failures = 0;
      s.successes += 1;
    } else {
      s.successes = 0;
      s.failures += 1;
      this.log.debug({ container: w.key, probe: s.kind, failures: s.failures, message: outcome.message }, 'probe failed');
    }
    // Next run a period after this one ended: a slow check never overlaps itself.
    if (this.apply(w, s, outcome)) this.schedule(w, s, s.probe.periodSeconds * 1000);
  }

  /** Acts on one result; false when this probe is done (startup succeeded, container stopped). */
  private apply(w: Worker, s: ProbeState, outcome: ProbeOutcome): boolean {
    const p = s.probe;
    if (s.kind === 'readiness') {
      const before = w.ready;
      if (outcome.ok && s.successes >= p.successThreshold) w.ready = true;
      if (!outcome.ok && s.failures >= p.failureThreshold) w.ready = false;
      if (w.ready !== before) {
        this.log.info({ container: w.key, ready: w.ready, message: outcome.message }, 'readiness changed');
        this.onChange();
      }
      return true;
    }
    if (!outcome.ok) {
      if (s.failures < p.failureThreshold) return true;
      this.kill(w, `${LABEL[s.kind]} probe failed: ${outcome.message}`);
      return false;
    }
    if (s.kind === 'liveness' || w.started) return true;
    // The startup probe succeeded: it stops, and liveness and readiness take over.
    w.started = true;
    const hasReadiness = w.states.some((x) => x.kind === 'readiness');
    for (const x of w.states) if (x.kind !== 'startup') this.schedule(w, x, this.firstDelay(w, x));
    if (!hasReadiness) w.ready = true;
    // Also without a change of readiness: a sidecar's start lets its pod's next container start.
    this.onChange();
    return false;
  }

  private kill(w: Worker, reason: string): void {
    this.log.warn({ container: w.key, id: w.id.slice(0, 12), reason }, 'probe failed: stopping the container to restart it');
    this.stopped.set(w.id, reason);
    this.dispose(w);
    const grace = graceSecondsOf(w.pod) ?? this.stopGraceSeconds;
    this.runtime.stop(w.id, grace).then(
      () => this.onChange(),
      (err: unknown) => {
        this.log.warn({ container: w.key, err: errorMessage(err) }, 'stopping an unhealthy container failed');
        this.onChange();
      },
    );
  }
}
