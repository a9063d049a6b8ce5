/**
 * What a step handler gets and gives back. Handlers perform one step through the node's ports
 * (runtime, sandboxes, locks, jobs, prober) and say how it went; the executor records failures
 * and their backoffs in memory from the outcome, so no handler computes a backoff.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { JobRunner } from '../jobs/runner.js';
import type { ManagedContainer, NodeRuntime, PodSandbox } from '../node-runtime.js';
import type { PlanMemory } from '../plan/memory.js';
import type { FailureReason, StepOf, StepType, WorkId } from '../plan/steps.js';
import type { Prober } from '../prober.js';
import type { UpdateLocks } from '../update-locks.js';

/** The node as it is after a round's actions (settling steps and the status look at it). */
export interface NodeAfter {
  containers: ManagedContainer[];
  sandboxes?: PodSandbox[];
}

/** What asks for another round from outside one: a lock released, a schedule fired. */
export type WakeReason = 'lock' | 'job';

export interface ExecContext {
  runtime: NodeRuntime;
  memory: PlanMemory;
  log: Logger;
  now(): number;
  /** Stop grace for containers whose pod set none. */
  stopGraceSeconds: number;
  /** The node once the actions of the round are done; looked at once, when first asked. */
  after(): Promise<NodeAfter>;
  prober?: Prober;
  locks?: UpdateLocks;
  jobs?: JobRunner;
  wake(reason: WakeReason): void;
}

export interface Outcome {
  ok: boolean;
  /** Not tried (not its time, or already under way). */
  skipped?: boolean;
  /** Work whose failure is over: it is forgotten, and its backoff with it. */
  clears?: WorkId;
  /** What failed, recorded and backed off under its typed id; `prefix` goes before the error's message. */
  failed?: { work: WorkId; reason: FailureReason; err: unknown; prefix?: string };
}

export const OK: Outcome = { ok: true };

export type Handler<S> = (step: S, ctx: ExecContext) => Promise<Outcome>;

/** One handler per step kind: a kind without one does not compile (test/unit/agent-executor-table.test.ts). */
export type HandlerTable = { readonly [K in StepType]: Handler<StepOf<K>> };
