/**
 * plan(): the one entry point of the agent's planning, across its parts (each part has its own
 * exact-step tests: agent-planner, agent-sandboxes, agent-init-order, agent-depends-on,
 * agent-update-gate, agent-jobs-decide). Here: the combined order, what memory changes, and that
 * it is pure.
 */
import { describe, expect, it } from 'vitest';
import type { ManagedContainer, PodSandbox } from '../../agent/src/agent/node-runtime.js';
import { emptyMemory, type PlanMemory } from '../../agent/src/agent/plan/memory.js';
import { DEFAULT_SETTINGS, plan, type Observation } from '../../agent/src/agent/plan/plan.js';
import { PHASE, PHASE_ORDER, describeStep, workKey, type Failure, type Step } from '../../agent/src/agent/plan/steps.js';
import { sandboxNetworkKey } from '../../agent/src/runtime/sandbox-model.js';
import { sandboxRequestOf } from '../../agent/src/agent/plan/pod-fields.js';
import { container, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';

const NOW = Date.parse('2026-03-10T12:00:00Z');

function pod(name: string, d: PodDesc = {}): WirePodTarget {
  return podTarget(name, { containers: [container('main', { image: 'reg.lan/app:1' })], ...d });
}

let seq = 0;
function mc(podName: string, over: Partial<ManagedContainer> & { hash?: string } = {}): ManagedContainer {
  const { hash, ...rest } = over;
  return {
    id: `id${++seq}`,
    name: `${podName}_main`,
    labels: { 'grove.managed': 'agent', 'grove.pod': podName, 'grove.app': podName.split('-')[0]!, 'grove.container': 'main', 'grove.template-hash': hash ?? 'h1' },
    image: 'reg.lan/app:1',
    state: 'running',
    exitCode: null,
    oomKilled: false,
    createdAt: '2026-03-10T11:00:00.000Z',
    startedAt: '2026-03-10T11:00:00.000Z',
    ...rest,
  };
}

function sandbox(p: WirePodTarget, over: Partial<PodSandbox> = {}): PodSandbox {
  const req = sandboxRequestOf(p);
  return { pod: req.pod, app: req.app, networkKey: sandboxNetworkKey(req), hostNetwork: req.hostNetwork, ports: [], ready: true, createdAt: '2026-03-10T11:00:00.000Z', ...over };
}

function look(containers: ManagedContainer[], over: Partial<Observation> = {}): Observation {
  return { now: NOW, containers, lockedApps: new Set(), ...over };
}

const lines = (steps: Step[]): string[] => steps.map(describeStep);
const SETTLING = ['sync-probes', 'prune-locks', 'clean-pod-dirs'];

function failure(f: Omit<Failure, 'failures'> & { failures?: number }): Failure {
  return { failures: 1, ...f };
}

describe('plan: one entry point', () => {
  it('plans only the settling steps for a node that has what it should', () => {
    const web = pod('web-a');
    const p = plan(look([mc('web-a')], { sandboxes: [sandbox(web)] }), [web], emptyMemory());
    expect(lines(p.steps)).toEqual(['write-hosts', ...SETTLING]);
    // Without pod sandboxes, no /etc/hosts either.
    expect(lines(plan(look([mc('web-a')]), [web], emptyMemory()).steps)).toEqual(SETTLING);
  });

  it('orders a busy round by phase: bookkeeping, sandboxes, removals, starts, restarts, settling', () => {
    const memory = emptyMemory();
    // A failure of a pod that left; a crash loop of db whose delay has passed.
    memory.failures.set(workKey({ kind: 'container', pod: 'gone-a', container: 'main' }), failure({ work: { kind: 'container', pod: 'gone-a', container: 'main' }, reason: 'ImagePullError', message: 'x', retryAt: NOW + 5000 }));
    const crashed = mc('db-a', { state: 'exited', exitCode: 1, finishedAt: '2026-03-10T11:59:00.000Z' });
    memory.failures.set(workKey({ kind: 'container', pod: 'db-a', container: 'main' }), failure({ work: { kind: 'container', pod: 'db-a', container: 'main' }, reason: 'CrashLoopBackOff', message: 'back-off', retryAt: NOW - 1, exitedId: crashed.id }));
    memory.configChanged = [{ kind: 'ConfigMap', name: 'settings' }];
    const old = mc('old-a');
    const web = pod('web-a');
    const db = pod('db-a');
    const job = pod('mig-x1', { policy: 'Never', job: { completions: 1, parallelism: 1, backoffLimit: 0 } });
    const current = look([old, crashed], { sandboxes: [sandbox(db), sandbox(pod('left-a'))] });
    const p = plan(current, [web, db, job], memory);
    expect(lines(p.steps)).toEqual([
      'forget-failures',
      'refresh-config',
      'save-jobs',
      'remove-sandbox left-a',
      'create-sandbox web-a',
      'create-sandbox mig-x1',
      `remove-container ${old.id} (not-desired)`,
      'start-container web-a/main',
      'start-container mig-x1/main',
      'restart-container db-a/main',
      'write-hosts',
      ...SETTLING,
    ]);
    const phases = p.steps.map((s) => PHASE_ORDER.indexOf(PHASE[s.type]));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    // A container starts only once its pod's sandbox of this round is there; db's is ready already.
    const needs = Object.fromEntries(p.steps.flatMap((s) => (s.type === 'start-container' || s.type === 'restart-container' ? [[s.pod.name, s.needs]] : [])));
    expect(needs).toEqual({ 'web-a': [{ kind: 'sandbox', pod: 'web-a' }], 'mig-x1': [{ kind: 'sandbox', pod: 'mig-x1' }], 'db-a': undefined });
    expect(p.steps[0]).toEqual({ type: 'forget-failures', works: [{ kind: 'container', pod: 'gone-a', container: 'main' }] });
    // The Job's run is a pod of its own, and its record is kept.
    expect(p.pods.map((x) => x.name)).toEqual(['web-a', 'db-a', 'mig-x1']);
    expect(p.steps.find((s) => s.type === 'save-jobs')).toMatchObject({ put: [{ pod: 'mig-x1', job: { runs: [{ name: 'mig-x1', phase: 'Active' }] } }], remove: [], fires: [] });
  });

  it('is pure: the same inputs give the same steps, and memory is left as it was', () => {
    const memory = emptyMemory();
    memory.holds.set('web', { reason: 'update-lock', since: NOW - 1000 });
    const current = look([mc('web-a', { hash: 'h0' }), mc('db-a', { state: 'exited', exitCode: 2 })]);
    const target = [pod('web-a'), pod('db-a')];
    const snapshot = structuredClone(memory);
    const first = plan(current, target, memory);
    expect(plan(current, target, memory)).toEqual(first);
    expect(memory).toEqual(snapshot);
  });
});

describe('plan: backoffs and holds are data', () => {
  const exited = (finishedAt: string) => mc('web-a', { state: 'exited', exitCode: 1, finishedAt });

  it('holds the restart of a fresh crash for its delay, from the exit', () => {
    const c = exited('2026-03-10T11:59:55.000Z');
    const p = plan(look([c]), [pod('web-a')], emptyMemory());
    const steps = p.steps.filter((s) => PHASE[s.type] === 'container');
    expect(steps).toEqual([
      {
        type: 'back-off-restart',
        pod: pod('web-a'),
        container: pod('web-a').spec.containers[0],
        failure: {
          work: { kind: 'container', pod: 'web-a', container: 'main' },
          reason: 'CrashLoopBackOff',
          message: 'back-off 10s restarting failed container=main pod=web-a (exit 1)',
          failures: 1,
          retryAt: Date.parse('2026-03-10T12:00:05.000Z'),
          exitedId: c.id,
        },
      },
    ]);
  });

  it('restarts at once an exit whose delay passed while nobody looked, and counts on from the last crash', () => {
    const c = exited('2026-03-10T11:00:00.000Z');
    const memory = emptyMemory();
    const work = { kind: 'container' as const, pod: 'web-a', container: 'main' };
    memory.failures.set(workKey(work), failure({ work, reason: 'CrashLoopBackOff', message: 'm', failures: 3, retryAt: NOW - 60_000, exitedId: 'earlier' }));
    const steps = plan(look([c]), [pod('web-a')], memory).steps.filter((s) => PHASE[s.type] === 'container');
    expect(steps.map((s) => s.type)).toEqual(['back-off-restart', 'restart-container']);
    expect(steps[0]).toMatchObject({ failure: { failures: 4, exitedId: c.id } });
    expect(steps[1]).toMatchObject({ id: c.id, reason: 'exited', restarts: 1 });
  });

  it('plans nothing for a held container or removal, and the restart once its hold has passed', () => {
    const c = exited('2026-03-10T11:59:55.000Z');
    const memory = emptyMemory();
    const work = { kind: 'container' as const, pod: 'web-a', container: 'main' };
    memory.failures.set(workKey(work), failure({ work, reason: 'CrashLoopBackOff', message: 'm', retryAt: NOW + 1, exitedId: c.id }));
    const gone = mc('old-a');
    memory.failures.set(workKey({ kind: 'removal', id: gone.id }), failure({ work: { kind: 'removal', id: gone.id }, reason: 'RemoveError', message: 'busy', retryAt: NOW + 1 }));
    const action = (m: PlanMemory, now: number) => lines(plan(look([c, gone], { now }), [pod('web-a')], m).steps.filter((s) => PHASE[s.type] !== 'settle'));
    expect(action(memory, NOW)).toEqual([]);
    expect(action(memory, NOW + 1)).toEqual([`remove-container ${gone.id} (not-desired)`, 'restart-container web-a/main']);
  });

  it('does not start a removal in flight again, and starts of its app wait for it', () => {
    const memory = emptyMemory();
    const leaving = mc('web-old', { hash: 'h0' });
    memory.removing.set(leaving.id, 'web');
    const p = plan(look([leaving]), [pod('web-new')], memory);
    expect(p.steps.filter((s) => PHASE[s.type] !== 'settle')).toEqual([{ type: 'start-container', pod: pod('web-new'), container: pod('web-new').spec.containers[0], needs: [{ kind: 'app-stopped', app: 'web' }] }]);
  });

  it('retries at once the pods that failed for lack of a ConfigMap that arrived', () => {
    const uses = pod('api-a', { spec: { volumes: [{ name: 'conf', configMap: { name: 'settings' } }] } });
    const other = pod('web-a');
    const memory = emptyMemory();
    for (const p of [uses, other]) {
      const work = { kind: 'container' as const, pod: p.name, container: 'main' };
      memory.failures.set(workKey(work), failure({ work, reason: 'CreateError', message: 'ConfigMap "settings" not found on this node', failures: 6, retryAt: NOW + 60_000 }));
    }
    expect(lines(plan(look([]), [uses, other], memory).steps)).toEqual(SETTLING);
    memory.configChanged = [{ kind: 'ConfigMap', name: 'settings' }];
    expect(lines(plan(look([]), [uses, other], memory).steps)).toEqual([
      'forget-failures',
      'refresh-config',
      'start-container api-a/main',
      ...SETTLING,
    ]);
  });

  it('records an update hold when a window closes on an update, keeps it quietly, and releases it', () => {
    const nightly = { 'grove.io/update-window': '0 2 * * *', 'grove.io/update-window-duration': '1h', 'grove.io/update-window-timezone': 'UTC' };
    const old = mc('web-a');
    const target = [pod('web-b', { hash: 'h2', annotations: nightly })];
    const memory = emptyMemory();
    const first = plan(look([old]), target, memory);
    expect(first.steps.filter((s) => PHASE[s.type] !== 'settle')).toEqual([
      { type: 'hold-update', app: 'web', hold: { reason: 'update-window', since: NOW }, deferred: first.deferred[0] },
    ]);
    expect(first.wakeAt).toBe(Date.parse('2026-03-11T02:00:00Z'));
    memory.holds.set('web', { reason: 'update-window', since: NOW });
    expect(lines(plan(look([old], { now: NOW + 5000 }), target, memory).steps)).toEqual(SETTLING);
    const open = plan(look([old], { now: Date.parse('2026-03-11T02:00:00Z') }), target, memory);
    expect(lines(open.steps.filter((s) => PHASE[s.type] !== 'settle'))).toEqual(['release-update web', `remove-container ${old.id} (not-desired)`, 'start-container web-b/main']);
  });

  it('watches the lock of an app whose update it holds, and stops watching once that is over', () => {
    const old = mc('web-a');
    const target = [pod('web-b', { hash: 'h2' })];
    const memory = emptyMemory();
    const held = plan(look([old], { lockedApps: new Set(['web']) }), target, memory, DEFAULT_SETTINGS);
    expect(held.steps.filter((s) => s.type === 'watch-locks')).toEqual([{ type: 'watch-locks', apps: ['web'] }]);
    memory.watchedLocks = 'web';
    const released = plan(look([old]), target, memory);
    expect(released.steps.filter((s) => s.type === 'watch-locks')).toEqual([{ type: 'watch-locks', apps: [] }]);
    memory.watchedLocks = '';
    expect(plan(look([old]), target, memory).steps.filter((s) => s.type === 'watch-locks')).toEqual([]);
  });
});

describe('plan: CronJobs', () => {
  const cron = { schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' as const, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: false };
  const tick = pod('tick-x1', { policy: 'OnFailure', job: { completions: 1, parallelism: 1, backoffLimit: 1 }, cron });

  it('starts the schedule once, takes firings in, and forgets the pod when it leaves', () => {
    const memory = emptyMemory();
    expect(lines(plan(look([]), [tick], memory).steps)).toEqual(['save-jobs', 'schedule-cron tick-x1', ...SETTLING]);
    memory.cronSchedules.set('tick-x1', '*/5 * * * *||false');
    memory.jobs.set('tick-x1', { pod: 'tick-x1', templateHash: 'h1', cron: { jobs: [] } });
    expect(lines(plan(look([]), [tick], memory).steps)).toEqual(SETTLING);
    memory.cronFires.set('tick-x1', [NOW]);
    const fired = plan(look([]), [tick], memory);
    const run = `tick-x1-${NOW / 60_000}`;
    expect(lines(fired.steps)).toEqual(['save-jobs', `start-container ${run}/main`, ...SETTLING]);
    expect(fired.steps[0]).toMatchObject({ fires: [{ pod: 'tick-x1', count: 1 }], events: [{ type: 'fired', pod: 'tick-x1', at: NOW, outcome: { started: run } }] });
    const left = plan(look([]), [], memory);
    expect(lines(left.steps)).toEqual(['save-jobs', 'unschedule-cron tick-x1', ...SETTLING]);
    expect(left.steps[0]).toMatchObject({ put: [], remove: ['tick-x1'] });
  });
});
