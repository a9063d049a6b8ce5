/**
 * lifecycle.preStop: the PodSpec admits it, the agent records it on the container at start,
 * and every stop (removal, replacement, liveness kill all go through NodeRuntime.stop) runs it
 * before SIGTERM within the grace period; a failing hook is logged and the stop goes on.
 */
import { describe, expect, it } from 'vitest';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import { MIN_GRACE_AFTER_HOOK, PRE_STOP_LABEL, preStopLabels, preStopOf, runPreStop, type HookRunner, type PreStopHook } from '../../agent/src/agent/lifecycle-hooks.js';
import { planContainers } from '../../agent/src/agent/plan/containers.js';
import { Labels, STOP_GRACE_LABEL } from '../../agent/src/agent/node-runtime.js';
import type { ContainerManager, ContainerView, RunRequest } from '../../agent/src/runtime/container-manager.js';
import { silentLogger } from '../../src/core/logger.js';
import { pathText } from '../../src/core/objects/explain.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { container, podTarget } from '../support/pod-target.js';

const schemaProblems = (spec: unknown): string[] => {
  const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
};
const withLifecycle = (lifecycle: unknown) => ({ containers: [{ name: 'app', image: 'busybox:1', lifecycle }] });

describe('lifecycle in the PodSpec', () => {
  it('admits preStop exec, httpGet and sleep, one handler each', () => {
    expect(schemaProblems(withLifecycle({ preStop: { exec: { command: ['sh', '-c', 'nginx -s quit'] } } }))).toEqual([]);
    expect(schemaProblems(withLifecycle({ preStop: { httpGet: { path: '/drain', port: 8080 } } }))).toEqual([]);
    expect(schemaProblems(withLifecycle({ preStop: { sleep: { seconds: 5 } } }))).toEqual([]);
    expect(schemaProblems(withLifecycle({ preStop: {} })).join()).toMatch(/expected exactly one of exec, httpGet, sleep/);
    expect(schemaProblems(withLifecycle({ preStop: { exec: { command: ['x'] }, sleep: { seconds: 1 } } })).join()).toMatch(/exactly one/);
  });

  it('refuses tcpSocket hooks and hooks on init containers by name', () => {
    expect(schemaProblems(withLifecycle({ preStop: { tcpSocket: { port: 1 } } })).join()).toMatch(/tcpSocket: is not a lifecycle handler/);
    const init = { initContainers: [{ name: 'i', image: 'busybox:1', lifecycle: { preStop: { sleep: { seconds: 1 } } } }], containers: [{ name: 'app', image: 'busybox:1' }] };
    expect(schemaProblems(init).join()).toMatch(/initContainers\[0\]\.lifecycle: init containers cannot have lifecycle hooks/);
  });
});

describe('the hook recorded on the container', () => {
  it('round-trips exec, httpGet (path defaulted) and sleep through the label', () => {
    const hooks: [unknown, PreStopHook][] = [
      [{ exec: { command: ['sh', '-c', 'echo bye'] } }, { exec: { command: ['sh', '-c', 'echo bye'] } }],
      [{ httpGet: { port: 8080, httpHeaders: [{ name: 'X-Drain', value: '1' }] } }, { httpGet: { path: '/', port: 8080, httpHeaders: [{ name: 'X-Drain', value: '1' }] } }],
      [{ sleep: { seconds: 3 } }, { sleep: { seconds: 3 } }],
    ];
    for (const [preStop, hook] of hooks) {
      const labels = preStopLabels(container('app', { lifecycle: { preStop } as never }));
      expect(preStopOf(labels)).toEqual(hook);
    }
    expect(preStopLabels(container('app'))).toEqual({});
  });

  it('ignores a label it did not write (set by hand with grove ctr)', () => {
    for (const raw of ['nope', '[]', '{"exec":{"command":[]}}', '{"httpGet":{"port":"80"}}', '{"sleep":{"seconds":-1}}', '{}']) {
      expect(preStopOf({ [PRE_STOP_LABEL]: raw }), raw).toBeUndefined();
    }
  });
});

/** A runner whose clock moves only when the hook "takes time". */
function fakeRunner(o: { exitCode?: number | null; timedOut?: boolean; execMs?: number; throws?: Error } = {}) {
  let t = 1_000_000;
  const calls: string[] = [];
  const runner: HookRunner = {
    exec: async (argv, timeoutMs) => {
      calls.push(`exec ${argv.join(' ')} (${timeoutMs} ms)`);
      if (o.throws) throw o.throws;
      t += o.execMs ?? 0;
      return { exitCode: o.exitCode === undefined ? 0 : o.exitCode, timedOut: o.timedOut ?? false, output: 'last line\n' };
    },
    httpGet: async (check, timeoutMs) => {
      calls.push(`http ${check.httpGet?.path} (${timeoutMs} ms)`);
      return { ok: false, message: 'HTTP probe failed with statuscode: 503' };
    },
    sleep: async (ms) => {
      calls.push(`sleep ${ms}`);
      t += ms;
    },
    now: () => t,
  };
  return { runner, calls };
}

describe('runPreStop', () => {
  const exec: PreStopHook = { exec: { command: ['drain'] } };

  it('runs the hook bounded by the grace and leaves the rest of it for SIGTERM', async () => {
    const { runner, calls } = fakeRunner({ execMs: 4_500 });
    expect(await runPreStop(exec, 30, runner)).toEqual({ outcome: { ok: true, message: 'exec exited with 0' }, graceLeft: 26 });
    expect(calls).toEqual(['exec drain (30000 ms)']);
  });

  it('always leaves the minimum grace after a hook that used it all up', async () => {
    const { runner } = fakeRunner({ execMs: 10_000, exitCode: null, timedOut: true });
    const r = await runPreStop(exec, 10, runner);
    expect(r).toEqual({ outcome: { ok: false, message: 'exec did not finish within 10 s' }, graceLeft: MIN_GRACE_AFTER_HOOK });
  });

  it('reports a failing or throwing hook as a failure, never as an error of the stop', async () => {
    expect((await runPreStop(exec, 30, fakeRunner({ exitCode: 3 }).runner)).outcome).toEqual({ ok: false, message: 'exec exited with 3: last line' });
    expect((await runPreStop(exec, 30, fakeRunner({ throws: new Error('container is not running') }).runner)).outcome).toEqual({ ok: false, message: 'container is not running' });
    const { runner, calls } = fakeRunner();
    expect((await runPreStop({ httpGet: { path: '/drain', port: 80 } }, 5, runner)).outcome.ok).toBe(false);
    expect(calls).toEqual(['http /drain (5000 ms)']);
  });

  it('sleeps at most the grace', async () => {
    const { runner, calls } = fakeRunner();
    expect(await runPreStop({ sleep: { seconds: 60 } }, 20, runner)).toEqual({ outcome: { ok: true, message: 'slept 60 s' }, graceLeft: MIN_GRACE_AFTER_HOOK });
    expect(calls).toEqual(['sleep 20000']);
  });
});

describe('execution: every stop runs the hook first (ContainerManagerRuntime over a fake ContainerManager)', () => {
  function setup(state: ContainerView['state'] = 'running') {
    const calls: string[] = [];
    const views = new Map<string, ContainerView>();
    const fake = {
      run: async (request: RunRequest): Promise<ContainerView> => {
        const id = 'c'.repeat(64);
        const view = {
          id,
          name: request.name ?? id,
          image: request.image,
          imageDigest: '',
          spec: { id, name: request.name ?? id, image: request.image, imageDigest: '', env: [], limits: {}, labels: request.labels ?? {} },
          state,
          exitCode: null,
          oomKilled: false,
          createdAt: '2025-01-01T00:00:00.000Z',
        } as unknown as ContainerView;
        views.set(id, view);
        return view;
      },
      find: async (id: string) => views.get(id)!,
      exec: async (id: string, argv: readonly string[], o: { timeoutMs: number }) => {
        calls.push(`exec ${argv.join(' ')} within ${o.timeoutMs} ms`);
        return { exitCode: 0, timedOut: false, output: '' };
      },
      stop: async (id: string, grace: number) => void calls.push(`stop with ${grace} s`),
    };
    const runtime = new ContainerManagerRuntime({ containers: fake as unknown as ContainerManager, logger: silentLogger() });
    return { runtime, calls };
  }
  const pod = podTarget('web-1', { grace: 12, containers: [container('app', { lifecycle: { preStop: { exec: { command: ['nginx', '-s', 'quit'] } } } })] });

  it('records the hook at start and runs it before SIGTERM, the grace shortened by its time', async () => {
    const { runtime, calls } = setup();
    const c = await runtime.start(pod, pod.spec.containers[0]!);
    expect(c.labels[PRE_STOP_LABEL]).toBe('{"exec":{"command":["nginx","-s","quit"]}}');
    expect(c.labels[STOP_GRACE_LABEL]).toBe('12');
    await runtime.stop(c.id, 12);
    expect(calls).toEqual(['exec nginx -s quit within 12000 ms', 'stop with 12 s']);
  });

  it('skips the hook with a grace of 0 and for a container that is not running', async () => {
    const now = setup();
    const c = await now.runtime.start(pod, pod.spec.containers[0]!);
    await now.runtime.stop(c.id, 0);
    expect(now.calls).toEqual(['stop with 0 s']);
    const exited = setup('exited');
    const e = await exited.runtime.start(pod, pod.spec.containers[0]!);
    await exited.runtime.stop(e.id, 12);
    expect(exited.calls).toEqual(['stop with 12 s']);
  });

  it('plans the stop of a deleted pod with the grace recorded on its container (the hook rides along)', () => {
    const running = {
      id: 'c1',
      name: 'web-1_app',
      labels: { [Labels.managed]: 'agent', [Labels.pod]: 'web-1', [Labels.app]: 'web', [Labels.container]: 'app', [Labels.templateHash]: 'h1', [STOP_GRACE_LABEL]: '12', ...preStopLabels(pod.spec.containers[0]!) },
      image: 'reg.lan/app:1',
      state: 'running' as const,
      exitCode: null,
      oomKilled: false,
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    expect(planContainers([running], [])).toEqual([{ type: 'remove-container', id: 'c1', name: 'web-1_app', app: 'web', reason: 'not-desired', graceSeconds: 12 }]);
  });
});
