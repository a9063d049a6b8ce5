import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { dependencyWaits, markDependencyWaits } from '../../agent/src/agent/plan/depends-on.js';
import { emptyMemory } from '../../agent/src/agent/plan/memory.js';
import { plan } from '../../agent/src/agent/plan/plan.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { Reconciler, type StatusReport } from '../../agent/src/agent/reconciler.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AppDependency } from '../../src/core/model.js';
import type { ContainerStatus, PodStatus } from '../../src/core/wire-types.js';
import { formatDependsOn } from '../../src/core/objects/annotations.js';
import { container as podContainer, podTarget, type PodDesc, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';


function pod(app: string, dependsOn?: AppDependency[], extra: PodDesc = {}): WirePodTarget {
  return podTarget(`${app}-a`, {
    app,
    containers: [podContainer('main', { image: `reg.lan/${app}:1` })],
    ...(dependsOn ? { annotations: { 'grove.io/depends-on': formatDependsOn(dependsOn) } } : {}),
    ...extra,
  });
}

const container = (state: ContainerStatus['state'], exitCode?: number): ContainerStatus => ({
  name: 'main',
  state,
  oomKilled: false,
  restarts: 0,
  ...(exitCode !== undefined ? { exitCode } : {}),
});

function status(p: WirePodTarget, c: ContainerStatus, ready = false): PodStatus {
  return { name: p.name, app: p.owner!.name, templateHash: 'h1', phase: 'Running', ready, restarts: 0, containers: [c] };
}

describe('dependencyWaits', () => {
  const db = pod('db');
  const cases: [AppDependency['condition'], PodStatus, boolean][] = [
    ['started', status(db, container('waiting')), true],
    ['started', status(db, container('running')), false],
    ['started', status(db, container('exited', 1)), false],
    ['healthy', status(db, container('running'), false), true],
    ['healthy', status(db, container('running'), true), false],
    ['completed', status(db, container('running')), true],
    ['completed', status(db, container('exited', 1)), true],
    ['completed', status(db, container('exited', 0)), false],
  ];
  it.each(cases)('condition %s: waits = %s for the dependency status given', (condition, dbStatus, waits) => {
    const web = pod('web', [{ app: 'db', condition }]);
    const out = dependencyWaits([db, web], [dbStatus, status(web, container('waiting'))]);
    expect(out.has('web-a')).toBe(waits);
  });

  it('says what the pod waits for', () => {
    const web = pod('web', [{ app: 'db', condition: 'healthy' }, { app: 'cache', condition: 'started' }]);
    const cache = pod('cache');
    const out = dependencyWaits([db, cache, web], [status(db, container('running')), status(cache, container('waiting')), status(web, container('waiting'))]);
    expect(out.get('web-a')).toBe('waits for db to be healthy and cache to start');
  });

  it('does not wait for an app without a pod on this node', () => {
    const web = pod('web', [{ app: 'db', condition: 'healthy' }]);
    expect(dependencyWaits([web], [status(web, container('waiting'))]).size).toBe(0);
  });

  it('never holds back a pod that runs something, but holds one that is down entirely', () => {
    const web = pod('web', [{ app: 'db', condition: 'healthy' }]);
    const dbDown = status(db, container('waiting'));
    expect(dependencyWaits([db, web], [dbDown, status(web, container('running'))]).size).toBe(0);
    expect(dependencyWaits([db, web], [dbDown, status(web, container('exited', 1))]).has('web-a')).toBe(true);
  });

  it('turns waits into a planner hold and a status reason', () => {
    const waits = new Map([['web-a', 'waits for db to start']]);
    // Nothing of db has started yet: the plan starts db and holds web back, saying why.
    const planned = plan({ now: 0, containers: [], lockedApps: new Set() }, [pod('db'), pod('web', [{ app: 'db', condition: 'started' }])], emptyMemory());
    expect(planned.steps.filter((s) => s.type === 'start-container').map((s) => s.pod.name)).toEqual(['db-a']);
    expect(planned.waits).toEqual(waits);
    const web = pod('web');
    const [marked] = markDependencyWaits([status(web, container('waiting'))], waits);
    expect(marked!.containers[0]).toMatchObject({ state: 'waiting', reason: 'WaitingForDependency', message: 'waits for db to start' });
  });
});

describe('depends_on and init containers in the reconciler (MemoryRuntime)', () => {
  function setup() {
    const clock = new ManualClock();
    const runtime = new MemoryRuntime({ now: () => clock.now() });
    const reports: StatusReport[] = [];
    const reconciler = new Reconciler({ runtime, clock, logger: silentLogger(), pollSeconds: 5, onStatus: (r) => reports.push(r) });
    return { clock, runtime, reconciler, reports };
  }

  it('starts the dependant only once its dependency is ready', async () => {
    const { clock, runtime, reconciler, reports } = setup();
    const db = pod('db', undefined, {
      containers: [
        podContainer('main', {
          image: 'reg.lan/db:1',
          readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1 },
        }),
      ],
    });
    runtime.answerProbes('db-a_main', false);
    await reconciler.setTarget({ revision: 1, pods: [db, pod('web', [{ app: 'db', condition: 'healthy' }])] });
    await reconciler.idle();
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toEqual(['start db-a_main']);
    // One extra round for the start of db (its dependant may be free now), then quiet: waiting never spins.
    expect(reconciler.runs).toBe(2);
    await reconciler.trigger('manual');
    expect(reconciler.runs).toBe(3);
    const web = reports.at(-1)!.pods.find((p) => p.name === 'web-a')!;
    expect(web.containers[0]).toMatchObject({ reason: 'WaitingForDependency', message: 'waits for db to be healthy' });
    // The readiness probe passes: its change triggers a round that starts web.
    runtime.answerProbes('db-a_main', true);
    for (let i = 0; i < 10 && !runtime.calls.includes('start web-a_main'); i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 0));
      await reconciler.idle();
    }
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toEqual(['start db-a_main', 'start web-a_main']);
    await reconciler.stop();
  });

  it('runs quick init containers one after another within one trigger, then the main container', async () => {
    const { runtime, reconciler, reports } = setup();
    const p = pod('web', undefined, { inits: [podContainer('one', { image: 'reg.lan/i:1' }), podContainer('two', { image: 'reg.lan/i:1' })] });
    await reconciler.setTarget({ revision: 1, pods: [p] });
    await reconciler.idle();
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toEqual(['start web-a_one', 'start web-a_two', 'start web-a_main']);
    expect(reports.at(-1)!.pods[0]).toMatchObject({ phase: 'Running', ready: true });
    await reconciler.stop();
  });
});
