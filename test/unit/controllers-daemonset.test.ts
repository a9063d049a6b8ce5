import { describe, expect, it } from 'vitest';
import { daemonSetController } from '../../src/server/controllers/daemonset.js';
import { container, daemonSet, markReady, node, pass, pods, report, snapshot, world, type World } from './controller-fixtures.js';

const ds = daemonSetController();
const placed = (w: World) => pods(w).map((p) => `${p.spec.nodeName}:${p.spec.containers[0]!.image.split(':')[1]}`).sort();

function setImage(w: World, image: string): void {
  const d = w.objects.DaemonSet[0]!;
  const spec = structuredClone(d.spec);
  spec.template.spec.containers[0]!.image = image;
  w.objects.DaemonSet[0] = { ...d, spec };
}

describe('DaemonSet', () => {
  it('runs exactly one pod per eligible node, bound by itself, with the revision hash label and a ControllerRevision', () => {
    const w = world([node('a'), node('b'), daemonSet('agent')]);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1', 'b:1']);
    const cr = w.objects.ControllerRevision[0]!;
    expect(cr.metadata.name).toBe(`agent-${cr.metadata.labels?.['controller-revision-hash']}`);
    expect(cr.revision).toBe(1);
    expect(pods(w)[0]!.metadata.labels?.['controller-revision-hash']).toBe(cr.metadata.labels?.['controller-revision-hash']);
    markReady(w);
    pass(w, ds);
    expect(pass(w, ds)).toEqual([]);
    expect(w.objects.DaemonSet[0]!.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0 });
  });

  it('follows label changes: a node losing the label loses its pod, one gaining it gets one', () => {
    const w = world([node('a', { labels: { role: 'gw' } }), node('b'), daemonSet('agent', { template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { role: 'gw' }, containers: [container()] } } })]);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1']);
    w.objects.Node = [node('a'), node('b', { labels: { role: 'gw' } })];
    pass(w, ds);
    expect(placed(w)).toEqual(['b:1']);
  });

  it('a node that has not reported yet (migrated from 0.1) keeps its pod for labels it reports itself; its report decides', () => {
    const template = { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { 'node.grove.io/hollow': 'true' }, containers: [container()] } };
    const labelled = { labels: { 'node.grove.io/hollow': 'true' } };
    const w = world([node('a', labelled), node('b', labelled), daemonSet('agent', { template })]);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1', 'b:1']);
    // As the migration writes them: 0.1 kept the nodes' own labels in memory only.
    w.objects.Node = [node('a'), node('b'), node('c')];
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1', 'b:1']);
    w.reports.set('b', report('b', []));
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1']);
  });

  it('cordoned nodes get and keep DaemonSet pods (as in Kubernetes); a failed NotReady node gets none but keeps its own', () => {
    const w = world([node('a', { cordoned: true }), node('b', { ready: false, since: 0 }), daemonSet('agent')]);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1']);
    expect(w.objects.DaemonSet[0]!.status?.conditions?.[0]?.message).toBe('no pod on 1 of 2 nodes: 1 node(s) were not ready');
  });

  it('says when no node matches its selector', () => {
    const w = world([node('a'), daemonSet('agent', { template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { zone: 'x' }, containers: [container()] } } })]);
    pass(w, ds);
    expect(pods(w)).toEqual([]);
    expect(w.objects.DaemonSet[0]!.status?.conditions?.[0]).toMatchObject({ status: 'False', message: '0 nodes match nodeSelector zone=x' });
  });

  it('updates node by node: maxUnavailable 1 replaces one available pod at a time', () => {
    const w = world([node('a'), node('b'), node('c'), daemonSet('agent')]);
    pass(w, ds);
    markReady(w);
    setImage(w, 'example/app:2');
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2', 'b:1', 'c:1']);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2', 'b:1', 'c:1']);
    markReady(w);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2', 'b:2', 'c:1']);
    expect(w.objects.ControllerRevision.map((cr) => cr.revision).sort()).toEqual([1, 2]);
  });

  it('keeps the revision whose template is the same by meaning (0.1 spelling): no new revision, no pod replaced', () => {
    const template = (image: string, cpu: string | number) => ({ metadata: { labels: { app: 'agent' } }, spec: { containers: [container('app', { image, resources: { limits: { cpu, memory: '16Mi' } } })] } });
    const w = world([node('a'), node('b'), daemonSet('agent', { template: template('docker.io/example/reader:2.1', '100m') })]);
    pass(w, ds);
    markReady(w);
    pass(w, ds);
    const before = pods(w).map((p) => p.metadata.name);
    const d = w.objects.DaemonSet[0]!;
    w.objects.DaemonSet[0] = { ...d, spec: { ...d.spec, template: daemonSet('agent', { template: template('example/reader:2.1', 0.1) }).spec.template } };
    expect(ds.reconcile(snapshot(w)).changes.filter((c) => c.op !== 'status')).toEqual([]);
    pass(w, ds);
    expect(w.objects.ControllerRevision.map((cr) => cr.revision)).toEqual([1]);
    expect(pods(w).map((p) => p.metadata.name)).toEqual(before);
    // A real change still updates.
    setImage(w, 'example/reader:2.2');
    pass(w, ds);
    expect(w.objects.ControllerRevision.map((cr) => cr.revision).sort()).toEqual([1, 2]);
  });

  it('prunes ControllerRevisions beyond revisionHistoryLimit (oldest first), never one a pod still runs', () => {
    const w = world([node('a'), node('b', { ready: false, since: 0 }), daemonSet('agent', { revisionHistoryLimit: 1 })]);
    pass(w, ds);
    markReady(w);
    // b is NotReady since long: it got no pod, so nothing pins an old revision there.
    for (const v of ['2', '3', '4']) {
      setImage(w, `example/app:${v}`);
      pass(w, ds);
      markReady(w);
      pass(w, ds);
    }
    expect(placed(w)).toEqual(['a:4']);
    expect(w.objects.ControllerRevision.map((cr) => cr.revision).sort()).toEqual([3, 4]);
    // A revision a pod still runs is kept, even beyond the limit.
    const w2 = world([node('a'), node('c'), daemonSet('agent', { revisionHistoryLimit: 0, updateStrategy: { type: 'OnDelete' } })]);
    pass(w2, ds);
    markReady(w2);
    const d = w2.objects.DaemonSet[0]!;
    const spec = structuredClone(d.spec);
    spec.template.spec.containers[0]!.image = 'example/app:2';
    w2.objects.DaemonSet[0] = { ...d, spec };
    pass(w2, ds);
    expect(w2.objects.ControllerRevision.map((cr) => cr.revision).sort()).toEqual([1, 2]);
    w2.objects.Pod = [];
    pass(w2, ds);
    expect(w2.objects.ControllerRevision.map((cr) => cr.revision)).toEqual([2]);
  });

  it('replaces pods on NotReady nodes at once, counting them against nothing', () => {
    const w = world([node('a'), node('b', { ready: true }), daemonSet('agent')]);
    pass(w, ds);
    markReady(w);
    w.objects.Node = [node('a', { ready: false, since: 0 }), node('b')];
    setImage(w, 'example/app:2');
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2', 'b:2']);
  });

  it('maxSurge starts the new pod beside the old one, which goes once the new one is available', () => {
    const w = world([node('a'), daemonSet('agent', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } })]);
    pass(w, ds);
    markReady(w);
    setImage(w, 'example/app:2');
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1', 'a:2']);
    markReady(w);
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2']);
  });

  it('OnDelete leaves available pods on the old template until deleted', () => {
    const w = world([node('a'), daemonSet('agent', { updateStrategy: { type: 'OnDelete' } })]);
    pass(w, ds);
    markReady(w);
    setImage(w, 'example/app:2');
    pass(w, ds);
    expect(placed(w)).toEqual(['a:1']);
    w.objects.Pod = [];
    pass(w, ds);
    expect(placed(w)).toEqual(['a:2']);
  });

  it('replaces a pod that ended (Failed) with a new one on the same node', () => {
    const w = world([node('a'), daemonSet('agent')]);
    pass(w, ds);
    const p = w.objects.Pod[0]!;
    w.objects.Pod[0] = { ...p, status: { phase: 'Failed' } };
    const changes = ds.reconcile(snapshot(w)).changes;
    expect(changes.filter((c) => c.op !== 'status').map((c) => (c.op === 'delete' ? `delete ${c.ref.name}` : c.op === 'put' ? `put ${c.object.metadata.name}` : ''))).toEqual([`delete ${p.metadata.name}`, 'put agent-bbbbc']);
  });

  it('skips nodes without room for the request', () => {
    const w = world([node('a', { memory: '32Mi' }), node('b'), daemonSet('agent', { template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [container('app', { resources: { requests: { memory: '64Mi' } } })] } } })]);
    pass(w, ds);
    expect(placed(w)).toEqual(['b:1']);
    pass(w, ds); // the status catches up with the pods it made
    expect(ds.reconcile(snapshot(w)).changes).toEqual([]);
    expect(w.objects.DaemonSet[0]!.status?.conditions?.[0]?.message).toBe('no pod on 1 of 2 nodes: 1 Insufficient memory');
  });
});
