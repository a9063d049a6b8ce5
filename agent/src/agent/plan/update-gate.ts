/**
 * The update gate: PURE. Between the planner and the executor it holds back the steps that
 * would replace or stop an app's running containers while the app says "not now":
 *
 * - **Update window** (`WirePodTarget.update.window`): a new revision of an app that already has
 *   containers of an older revision on this node is applied only while the window is open —
 *   both the removal of the old containers and the start of the new pods wait. First installs,
 *   scale-ups on the current revision, crash restarts and deletions of the whole app are not
 *   updates and are never held by a window.
 * - **Update lock** (a file `updates.lock` the workload creates in its lock directory): any
 *   planned stop of a running container of the app (update, scale-down) waits while the file
 *   exists, up to the app's lock maximum counted from when the agent first found it held; the
 *   new revision's pods wait with it so old and new never run side by side. A deletion (the app
 *   has no pod left in this node's target) is an operator's explicit order, as `kubectl delete`
 *   is: it goes ahead at once, the containers get SIGTERM and their grace period, and no lock
 *   holds it back (a held deletion ran on unseen: the server no longer shows a deleted app).
 *
 * Same inputs, same answer: the clock reading and the lock state come in as values, and what
 * must be remembered between rounds (since when an app has been held) goes in and out as
 * `holds`. docs/agent.md has the rules.
 */
import { parseCron, windowState } from '../../../../src/core/cron-window.js';
import { windowText } from '../../../../src/core/update-policy.js';
import type { DeferredUpdate, PodStatus } from '../../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { appOf, Labels, type ManagedContainer } from '../node-runtime.js';
import type { ContainerStep } from './containers.js';
import { podApp, updatePolicyOf } from './pod-fields.js';
import type { Hold } from './steps.js';

type Step = ContainerStep;
export type HoldReason = Hold['reason'];

export interface GateInput {
  steps: Step[];
  current: readonly ManagedContainer[];
  target: readonly WirePodTarget[];
  now: number;
  /** Apps whose lock file exists right now. */
  lockedApps: ReadonlySet<string>;
  /** Holds of the previous round, by app. */
  holds: ReadonlyMap<string, Hold>;
  /** Lock maximum for apps that set none. */
  defaultLockMaxSeconds: number;
  /** Zone windows are read in when the app names none; undefined = the process's local zone. */
  timeZone?: string;
}

export interface GateResult {
  /** The steps to perform now, in plan order. */
  run: Step[];
  deferred: DeferredUpdate[];
  holds: Map<string, Hold>;
  /** Earliest moment a held step may go ahead on time alone (a window opens, a lock expires). */
  wakeAt?: number;
}

interface AppSteps {
  /** Removals of this app's containers, with the container. */
  removals: { step: Step; container: ManagedContainer }[];
  /** Starts and restarts of this app's pods. */
  starts: { step: Step; pod: WirePodTarget }[];
}

const hashOf = (c: ManagedContainer): string => c.labels[Labels.templateHash];

/** The apps the steps concern, with which step touches what. */
function groupByApp(steps: Step[], byId: Map<string, ManagedContainer>): Map<string, AppSteps> {
  const out = new Map<string, AppSteps>();
  const entry = (app: string): AppSteps => {
    let e = out.get(app);
    if (!e) out.set(app, (e = { removals: [], starts: [] }));
    return e;
  };
  for (const step of steps) {
    if (step.type === 'remove-container') {
      const c = byId.get(step.id);
      if (c) entry(appOf(c)).removals.push({ step, container: c });
    } else {
      entry(podApp(step.pod)).starts.push({ step, pod: step.pod });
    }
  }
  return out;
}

/** The containers a round must leave alone for `app`, and the pods that wait with them. */
function heldSteps(
  steps: AppSteps,
  removal: (c: ManagedContainer) => boolean,
  newRevision: (pod: WirePodTarget) => boolean,
): Set<Step> {
  const held = new Set<Step>();
  for (const r of steps.removals) if (removal(r.container)) held.add(r.step);
  for (const s of steps.starts) if (s.step.type === 'start-container' && newRevision(s.pod)) held.add(s.step);
  return held;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function gateSteps(input: GateInput): GateResult {
  const byId = new Map(input.current.map((c) => [c.id, c]));
  const held = new Set<Step>();
  const deferred: DeferredUpdate[] = [];
  const holds = new Map<string, Hold>();
  let wakeAt: number | undefined;
  const wake = (at: number): void => {
    if (wakeAt === undefined || at < wakeAt) wakeAt = at;
  };
  const hold = (app: string, reason: HoldReason): Hold => {
    const prev = input.holds.get(app);
    const h = prev?.reason === reason ? prev : { reason, since: input.now };
    holds.set(app, h);
    return h;
  };

  for (const [app, steps] of [...groupByApp(input.steps, byId)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const pods = input.target.filter((p) => podApp(p) === app);
    const policy = pods.map(updatePolicyOf).find((u) => u !== undefined);
    const targetHashes = new Set(pods.map((p) => p.templateHash));
    const mine = input.current.filter((c) => appOf(c) === app);
    const currentHashes = new Set(mine.map(hashOf));
    // Revisions the target asks for that nothing here runs yet. Mid-rollout the server lists
    // old and new pods side by side (maxSurge), so an old revision is one that is either gone
    // from the target or not the one being rolled out.
    const newHashes = new Set(pods.map((p) => p.templateHash).filter((h) => !currentHashes.has(h)));
    const isNewRevision = (pod: WirePodTarget): boolean => newHashes.has(pod.templateHash);
    const isOldRevision = (c: ManagedContainer): boolean => !targetHashes.has(hashOf(c)) || (newHashes.size > 0 && !newHashes.has(hashOf(c)));

    // Window: only an update (the app stays, an older revision is here) waits for it.
    const window = policy?.window;
    // Once the new revision runs, retiring the old one is not held: the update has happened.
    if (window && newHashes.size > 0 && mine.some(isOldRevision)) {
      const zone = window.timeZone ?? input.timeZone;
      const state = windowState(parseCron(window.schedule), window.durationSeconds * 1000, input.now, zone);
      if (!state.open) {
        const these = heldSteps(steps, isOldRevision, isNewRevision);
        if (these.size > 0) {
          these.forEach((s) => held.add(s));
          const h = hold(app, 'update-window');
          if (state.opensAt !== undefined) wake(state.opensAt);
          deferred.push({
            app,
            reason: 'update-window',
            since: iso(h.since),
            ...(state.opensAt !== undefined ? { until: iso(state.opensAt) } : {}),
            message: `update waits for window ${windowText(window)}${state.opensAt !== undefined ? `, next at ${iso(state.opensAt)}` : ''}`,
          });
          continue;
        }
      }
    }

    // Lock: any stop of a running container of the app waits while the lock file exists,
    // except the app's deletion from this node (nothing of it left in the target).
    if (pods.length === 0) continue;
    const maxMs = (policy?.lockMaxSeconds ?? input.defaultLockMaxSeconds) * 1000;
    // Retiring the old revision once the new one runs is the tail of an update the lock already
    // let through; the new revision may well have taken the (per-app) lock again by then.
    const newRuns = newHashes.size === 0 && mine.some((c) => c.state === 'running' && targetHashes.has(hashOf(c)));
    const guarded = (c: ManagedContainer): boolean => c.state === 'running' && !(newRuns && !targetHashes.has(hashOf(c)));
    const stopsRunning = steps.removals.some((r) => guarded(r.container));
    // A rolling update starts the new pods before it stops the old ones: that is an update too.
    const startsUpdate = newHashes.size > 0 && steps.starts.some((s) => isNewRevision(s.pod)) && mine.some((c) => c.state === 'running' && isOldRevision(c));
    if (maxMs > 0 && (stopsRunning || startsUpdate) && input.lockedApps.has(app)) {
      const h = hold(app, 'update-lock');
      const until = h.since + maxMs;
      if (input.now < until) {
        heldSteps(steps, guarded, isNewRevision).forEach((s) => held.add(s));
        wake(until);
        deferred.push({ app, reason: 'update-lock', since: iso(h.since), until: iso(until), message: `update lock held since ${iso(h.since)} (at most until ${iso(until)})` });
      }
      // Past the maximum the steps go ahead; the hold is kept so a lock still held is not waited for again.
    }
  }
  return { run: input.steps.filter((s) => !held.has(s)), deferred, holds, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/**
 * Apps the steps would stop a running container of, or start a new revision of beside an older
 * one that runs (a rolling update's surge pod): the apps whose update lock matters this round.
 */
export function appsUpdating(steps: readonly Step[], current: readonly ManagedContainer[]): string[] {
  const byId = new Map(current.map((c) => [c.id, c]));
  const runningHashes = new Map<string, Set<string>>();
  for (const c of current) {
    if (c.state !== 'running') continue;
    runningHashes.set(appOf(c), (runningHashes.get(appOf(c)) ?? new Set()).add(hashOf(c)));
  }
  const apps = new Set<string>();
  for (const s of steps) {
    if (s.type === 'remove-container') {
      const c = byId.get(s.id);
      if (c?.state === 'running') apps.add(appOf(c));
      continue;
    }
    const hashes = runningHashes.get(podApp(s.pod));
    if (hashes && !hashes.has(s.pod.templateHash)) apps.add(podApp(s.pod));
  }
  return [...apps];
}

/** Reason shown for a container of a held update that has not been started yet. */
export const UPDATE_DEFERRED_REASON = 'UpdateDeferred';

/**
 * The status with each not-yet-created container of a held app marked `UpdateDeferred` (the
 * deferral's message) instead of `ContainerCreating`, so `grove get pods` says why it waits.
 */
export function markDeferred(pods: PodStatus[], deferred: readonly DeferredUpdate[]): PodStatus[] {
  if (deferred.length === 0) return pods;
  const byApp = new Map(deferred.map((d) => [d.app, d]));
  return pods.map((p) => {
    const d = byApp.get(p.app);
    if (!d || !p.containers.some((c) => c.state === 'waiting' && c.reason === 'ContainerCreating')) return p;
    return {
      ...p,
      containers: p.containers.map((c) => (c.state === 'waiting' && c.reason === 'ContainerCreating' ? { ...c, reason: UPDATE_DEFERRED_REASON, message: d.message } : c)),
    };
  });
}
