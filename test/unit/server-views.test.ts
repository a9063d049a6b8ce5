import { describe, expect, it } from 'vitest';
import type { PodAssignment } from '../../src/core/resolved-pod.js';
import type { ContainerStatus, NodeStatus } from '../../src/core/wire-types.js';
import { appDeferred, podView } from '../../src/server/views.js';

const pod: PodAssignment = { kind: 'Pod', meta: { name: 'web-abc-00001', labels: {}, annotations: {} }, app: 'web', node: 'pi-1', templateHash: 'h' };

function live(containers: ContainerStatus[]) {
  const status = {
    pods: [{ name: 'web-abc-00001', app: 'web', templateHash: 'h', phase: 'Running', ready: false, restarts: 0, containers }],
  } as unknown as NodeStatus;
  return { ready: true, online: true, status };
}

const running = { name: 'main', state: 'running', oomKilled: false, restarts: 0 } as const;

describe('podView', () => {
  it("reports a container's readiness from its probe, and running as ready without one", () => {
    const view = podView(pod, undefined, live([{ ...running, ready: false }, { ...running, name: 'sidecar' }]));
    expect(view.containers.map((c) => [c.name, c.ready])).toEqual([['main', false], ['sidecar', true]]);
  });

  it('never calls an exited container ready', () => {
    const view = podView(pod, undefined, live([{ ...running, state: 'exited', exitCode: 1 }]));
    expect(view.containers[0]!.ready).toBe(false);
  });

  it('shows a pod with no node as Pending with its reason and no node', () => {
    const { node: _none, ...rest } = pod;
    const view = podView({ ...rest, unschedulable: '0/1 nodes are available: 1 node(s) were cordoned' }, undefined, undefined);
    expect(view).toEqual({ name: 'web-abc-00001', app: 'web', phase: 'Pending', ready: false, restarts: 0, containers: [], revision: undefined, templateHash: 'h', createdAt: undefined, unschedulable: '0/1 nodes are available: 1 node(s) were cordoned' });
    expect(JSON.parse(JSON.stringify(view))).not.toHaveProperty('node');
  });

  it('shows nothing as current for a node that stopped reporting', () => {
    const view = podView(pod, undefined, { ...live([running]), ready: false });
    expect(view.phase).toBe('Unknown');
    expect(view.containers).toEqual([]);
  });
});

describe('appDeferred', () => {
  const d = (app: string, reason: 'update-window' | 'update-lock') => ({ app, reason, since: '2026-01-01T00:00:00Z', message: `${reason} of ${app}` });
  const node = (ready: boolean, deferred?: ReturnType<typeof d>[]) => ({ ready, online: ready, status: { pods: [], ...(deferred ? { deferred } : {}) } as unknown as NodeStatus });

  it("lists the app's deferred updates by node name, leaving out NotReady nodes and other apps", () => {
    const views = appDeferred('web', [
      { name: 'pi-2', live: node(true, [d('web', 'update-lock'), d('db', 'update-window')]) },
      { name: 'pi-1', live: node(true, [d('web', 'update-window')]) },
      { name: 'pi-3', live: node(false, [d('web', 'update-lock')]) },
      { name: 'pi-4', live: node(true) },
    ]);
    expect(views.map((v) => [v.node, v.reason])).toEqual([['pi-1', 'update-window'], ['pi-2', 'update-lock']]);
    expect(views[0]).toMatchObject({ app: 'web', message: 'update-window of web' });
  });
});
