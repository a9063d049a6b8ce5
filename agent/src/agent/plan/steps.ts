/**
 * The agent's step vocabulary: every action a reconcile round takes is one of these, produced
 * by plan() (plan.ts) and performed by the executor's handler table (execute/handlers.ts), in
 * plan order. docs/agent.md has the table.
 *
 * Steps are plain data. Work that can fail is named by a typed id (WorkId), so a failure, its
 * backoff and what waits for it are found by kind and name, never by parsing a message.
 */
import type { ConfigRef } from '../../../../src/core/config-refs.js';
import type { CronSpec } from '../../../../src/core/resolved-pod.js';
import type { DeferredUpdate } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { Container } from '../../../../src/core/objects/pod-container.js';
import type { PodJobRecord } from '../jobs/decide.js';
import { podKey } from './pod-fields.js';

/** Work that can fail and back off: a pod container, a pod's sandbox, the removal of a container. */
export type WorkId =
  | { kind: 'container'; pod: string; container: string }
  | { kind: 'sandbox'; pod: string }
  | { kind: 'removal'; id: string };

export type ContainerWork = Extract<WorkId, { kind: 'container' }>;

export const containerWork = (pod: string, container: string): ContainerWork => ({ kind: 'container', pod, container });
export const sandboxWork = (pod: string): WorkId => ({ kind: 'sandbox', pod });
export const removalWork = (id: string): WorkId => ({ kind: 'removal', id });

/** The map key of a WorkId (memory.failures); NUL cannot occur in names or ids. */
export function workKey(w: WorkId): string {
  switch (w.kind) {
    case 'container':
      return `c\0${w.pod}\0${w.container}`;
    case 'sandbox':
      return `s\0${w.pod}`;
    case 'removal':
      return `r\0${w.id}`;
  }
}

/** Why work failed; the status shows it as the waiting/exited reason (Kubernetes' names). */
export type FailureReason = 'ImagePullError' | 'CreateError' | 'CrashLoopBackOff' | 'RemoveError';

export interface Failure {
  work: WorkId;
  reason: FailureReason;
  message: string;
  /** Consecutive failures (or restarts, for a crash loop) that the backoff counts. */
  failures: number;
  /** Clock time before which the work is not tried again. */
  retryAt: number;
  /** CrashLoopBackOff only: the exited container this hold is about (its restart ends the hold). */
  exitedId?: string;
}

export type RemoveReason = 'not-desired' | 'template-changed' | 'duplicate';
/** exited: policy Always; failed: policy OnFailure and a non-zero (or unknown) exit; not-started: left half-created. */
export type RestartReason = 'exited' | 'failed' | 'not-started';

/**
 * What a step waits for within its round. sandbox: that pod's sandbox step of this round
 * succeeded (a container never starts outside its sandbox; a pod taking over a leaving pod's
 * hostPort waits for that sandbox to go). app-stopped: no removal of the app's containers is
 * still in flight (old and new of an app never overlap, and a same-named pod needs the name).
 */
export type Need = { kind: 'sandbox'; pod: string } | { kind: 'app-stopped'; app: string };

/** Since when an app's update has been held back (update-gate.ts); kept between rounds. */
export interface Hold {
  reason: DeferredUpdate['reason'];
  /** ms since the epoch. */
  since: number;
}

/** What the Job / CronJob part decided, for the log (plan/jobs.ts). */
export type JobEvent =
  | { type: 'fired'; pod: string; at: number; outcome: Record<string, unknown> }
  | { type: 'finished'; pod: string; condition: string; reason?: string; succeeded: number; failed: number };

export type Step =
  // ---- bookkeeping: the agent's memory, its store and its watches
  /** Failures of work that is no longer wanted (or whose config arrived) are forgotten. */
  | { type: 'forget-failures'; works: WorkId[] }
  /** An update window or lock holds the app's update back (logged when it starts or changes reason). */
  | { type: 'hold-update'; app: string; hold: Hold; deferred?: DeferredUpdate }
  | { type: 'release-update'; app: string }
  /** ConfigMaps/Secrets changed: pods' projected files are rewritten in place. */
  | { type: 'refresh-config'; changed: ConfigRef[] }
  /** Job / CronJob records changed (kept in the agent's store); `fires` = schedule firings taken in. */
  | { type: 'save-jobs'; put: PodJobRecord[]; remove: string[]; fires: { pod: string; count: number }[]; events: JobEvent[] }
  /** A CronJob pod's schedule (re)starts; `key` says what it was made from. */
  | { type: 'schedule-cron'; pod: string; cron: CronSpec; key: string }
  | { type: 'unschedule-cron'; pod: string }
  /** The lock directories whose release must wake the agent (apps held by their lock). */
  | { type: 'watch-locks'; apps: string[] }
  // ---- pod sandboxes (before any container of their pod)
  | { type: 'remove-sandbox'; pod: string; reason: 'not-desired' }
  /** network-changed: hostNetwork or hostPorts differ; broken: half-created, or its namespaces are gone (reboot). */
  | { type: 'recreate-sandbox'; pod: WirePodTarget; reason: 'network-changed' | 'broken' }
  | { type: 'create-sandbox'; pod: WirePodTarget; needs?: Need[] }
  // ---- containers: removals (in the background), starts, restarts
  /** graceSeconds: the pod's terminationGracePeriodSeconds; absent = the executor's default. */
  | { type: 'remove-container'; id: string; name: string; app: string; reason: RemoveReason; graceSeconds?: number }
  /** A pod's main containers have finished: its running sidecar stops (the record stays, for the status). */
  | { type: 'stop-container'; id: string; pod: WirePodTarget; container: string; reason: 'pod-finished'; graceSeconds?: number }
  | { type: 'start-container'; pod: WirePodTarget; container: Container; needs?: Need[] }
  /** First sight of a crash: the restart waits for the next delay of the series (CrashLoopBackOff). */
  | { type: 'back-off-restart'; pod: WirePodTarget; container: Container; failure: Failure; needs?: Need[] }
  /** restarts: what the new instance records (the old one's count, plus one unless it never ran). */
  | { type: 'restart-container'; id: string; pod: WirePodTarget; container: Container; reason: RestartReason; restarts: number; needs?: Need[] }
  // ---- settling: each sees the node as it is after the steps above
  /** Every pod's /etc/hosts made to match the sandboxes (rewritten only where it changed). */
  | { type: 'write-hosts' }
  /** Probe workers for the running containers of `pods`, and none for anything else. */
  | { type: 'sync-probes'; pods: WirePodTarget[] }
  /** Lock directories of apps with nothing left on the node go. */
  | { type: 'prune-locks'; apps: string[] }
  /** Volume directories of pods with neither a target nor a container go. */
  | { type: 'clean-pod-dirs'; pods: WirePodTarget[] };

export type StepType = Step['type'];
export type StepOf<K extends StepType> = Extract<Step, { type: K }>;

/**
 * Where each kind runs in a round. The plan emits steps in this order; the executor runs
 * removals side by side in the background and gives settling steps the node as it is then.
 * Typed over every kind, so a new kind must say where it belongs.
 */
export type Phase = 'bookkeeping' | 'sandbox' | 'removal' | 'container' | 'settle';

export const PHASE: { readonly [K in StepType]: Phase } = {
  'forget-failures': 'bookkeeping',
  'hold-update': 'bookkeeping',
  'release-update': 'bookkeeping',
  'refresh-config': 'bookkeeping',
  'save-jobs': 'bookkeeping',
  'schedule-cron': 'bookkeeping',
  'unschedule-cron': 'bookkeeping',
  'watch-locks': 'bookkeeping',
  'remove-sandbox': 'sandbox',
  'recreate-sandbox': 'sandbox',
  'create-sandbox': 'sandbox',
  'remove-container': 'removal',
  'stop-container': 'container',
  'start-container': 'container',
  'back-off-restart': 'container',
  'restart-container': 'container',
  'write-hosts': 'settle',
  'sync-probes': 'settle',
  'prune-locks': 'settle',
  'clean-pod-dirs': 'settle',
};

export const PHASE_ORDER: readonly Phase[] = ['bookkeeping', 'sandbox', 'removal', 'container', 'settle'];

/** The work a step performs, when it can fail (its failure is recorded under this id). */
export function workOf(step: Step): WorkId | undefined {
  switch (step.type) {
    case 'remove-sandbox':
      return sandboxWork(step.pod);
    case 'recreate-sandbox':
    case 'create-sandbox':
      return sandboxWork(podKey(step.pod));
    case 'remove-container':
      return removalWork(step.id);
    case 'start-container':
    case 'restart-container':
      return containerWork(podKey(step.pod), step.container.name);
    default:
      return undefined;
  }
}

/** How a step went. skipped: not tried (what it needs is not there yet, or it was not its time). */
export interface StepResult {
  step: Step;
  ok: boolean;
  skipped?: boolean;
  error?: string;
}

/** One line per step for the debug log. */
export function describeStep(s: Step): string {
  switch (s.type) {
    case 'remove-container':
      return `remove-container ${s.id.slice(0, 12)} (${s.reason})`;
    case 'stop-container':
      return `stop-container ${podKey(s.pod)}/${s.container} (${s.reason})`;
    case 'start-container':
    case 'restart-container':
    case 'back-off-restart':
      return `${s.type} ${podKey(s.pod)}/${s.container.name}`;
    case 'create-sandbox':
    case 'recreate-sandbox':
      return `${s.type} ${podKey(s.pod)}`;
    case 'remove-sandbox':
    case 'schedule-cron':
    case 'unschedule-cron':
      return `${s.type} ${s.pod}`;
    case 'hold-update':
    case 'release-update':
      return `${s.type} ${s.app}`;
    default:
      return s.type;
  }
}
