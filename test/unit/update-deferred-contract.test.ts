/**
 * A deferred update, end to end between the two sides: the node names the held workload in its
 * status (`deferred[].app`, node-workload-key.ts) and the Deployment controller must read the
 * same workload out of it, in any namespace, so the rollout says UpdateDeferred instead of
 * running its progress deadline out. The agent's update gate runs on the very pod targets the
 * server builds for the node (node-targets.ts).
 */
import { describe, expect, it } from 'vitest';
import { managedLabels, type ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { planContainers } from '../../agent/src/agent/plan/containers.js';
import { gateSteps } from '../../agent/src/agent/plan/update-gate.js';
import { nodeWorkloadKey, parseNodeWorkloadKey } from '../../src/core/node-workload-key.js';
import { deploymentController } from '../../src/server/controllers/deployment.js';
import { nodeTargetPods } from '../../src/server/controllers/node-targets.js';
import { OwnerIndex } from '../../src/server/controllers/owner-index.js';
import { replicaSetController } from '../../src/server/controllers/replicaset.js';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { container, deployment, markReady, node, pass, report, T0, world, type World } from './controller-fixtures.js';

const WINDOW = { 'grove.io/update-window': '0 2 * * *', 'grove.io/update-window-duration': '1h', 'grove.io/update-window-timezone': 'UTC' };
const controllers = [deploymentController(), replicaSetController(), schedulerController()];

describe('node workload keys', () => {
  it('are the name in default and <namespace>_<name> elsewhere, and read back', () => {
    expect(nodeWorkloadKey('default', 'web')).toBe('web');
    expect(nodeWorkloadKey('shop', 'web')).toBe('shop_web');
    expect(parseNodeWorkloadKey('web')).toEqual({ namespace: 'default', name: 'web' });
    expect(parseNodeWorkloadKey('shop_web-2.x')).toEqual({ namespace: 'shop', name: 'web-2.x' });
  });
});

/** The node's containers for the pods bound to it now, all running (as its runtime lists them). */
function runningOn(w: World, nodeName: string): ManagedContainer[] {
  return nodeTargetPods(nodeName, w.objects.Pod, new OwnerIndex(w.objects)).flatMap((p) =>
    p.spec.containers.map((c, i) => ({ id: `${p.name}-${i}`, name: `${p.name}_${c.name}`, labels: managedLabels(p, c) as ManagedContainer['labels'], image: c.image, state: 'running' as const, exitCode: null, oomKilled: false, createdAt: '2025-01-01T00:00:00.000Z' })),
  );
}

function setImage(w: World, image: string): void {
  const d = w.objects.Deployment[0]!;
  const spec = structuredClone(d.spec);
  spec.template.spec.containers[0]!.image = image;
  w.objects.Deployment[0] = { ...d, metadata: { ...d.metadata, generation: 2 }, spec };
}

describe('an update held by a node\'s update window', () => {
  for (const namespace of ['default', 'shop']) {
    it(`is UpdateDeferred on the Deployment, not a missed deadline (namespace ${namespace})`, () => {
      const template = { metadata: { labels: { app: 'web' }, annotations: WINDOW }, spec: { containers: [container('app')] } };
      const w = world([node('a'), deployment('web', { progressDeadlineSeconds: 60, template }, { namespace })]);
      for (let i = 0; i < 5; i++) {
        pass(w, ...controllers);
        markReady(w);
      }
      const running = runningOn(w, 'a');
      setImage(w, 'example/app:2');
      pass(w, ...controllers);
      pass(w, ...controllers);
      // The node: the new pod is an update of a workload whose window is closed at 12:00.
      const target = nodeTargetPods('a', w.objects.Pod, new OwnerIndex(w.objects));
      const now = Date.parse('2025-01-01T12:00:00Z');
      const steps = planContainers(running, target);
      const gate = gateSteps({ steps, current: running, target, now, lockedApps: new Set(), holds: new Map(), defaultLockMaxSeconds: 3600 });
      expect(gate.deferred.map((d) => [d.app, d.reason])).toEqual([[nodeWorkloadKey(namespace, 'web'), 'update-window']]);
      // Its report, then the deadline passes with nothing moving.
      w.reports.set('a', { ...report('a', []), status: { ...report('a', []).status, deferred: gate.deferred } });
      w.now = T0 + 3600_000;
      pass(w, deploymentController());
      const progressing = w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing');
      expect(progressing).toMatchObject({ status: 'True', reason: 'UpdateDeferred' });
      // Another namespace's workload of the same name is not held by it.
      const other = nodeWorkloadKey(namespace === 'default' ? 'shop' : 'default', 'web');
      w.reports.set('a', { ...report('a', []), status: { ...report('a', []).status, deferred: gate.deferred.map((d) => ({ ...d, app: other })) } });
      w.now += 120_000;
      pass(w, deploymentController());
      expect(w.objects.Deployment[0]!.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).not.toBe('UpdateDeferred');
    });
  }
});
