import { describe, expect, it } from 'vitest';
import { schedulerController } from '../../src/server/scheduling/scheduler-controller.js';
import { schedule } from '../../src/server/scheduling/schedule.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { applyChanges, container, node, pod, pods, report, snapshot, T0, world, type PodOpts } from './controller-fixtures.js';

let seq = 0;
function rsPod(name: string, o: Omit<PodOpts, 'owner'> & { rs?: string; kind?: string } = {}): KindObject<'Pod'> {
  const rs = o.rs ?? 'web-abc';
  return pod(name, { ...o, created: o.created ?? T0 + ++seq * 1000, owner: { kind: o.kind ?? 'ReplicaSet', name: rs, uid: `uid-${rs}` } });
}

const sched = schedulerController();

function run(objects: Parameters<typeof world>[0], now = T0) {
  const w = world(objects, now);
  const r = sched.reconcile(snapshot(w));
  applyChanges(w, r.changes);
  return { w, r, nodeOf: (name: string) => pods(w).find((p) => p.metadata.name === name)?.spec.nodeName };
}

describe('scheduler: binding', () => {
  it('spreads the pods of one ReplicaSet over nodes in name order, oldest pod first', () => {
    const { nodeOf } = run([node('b'), node('a'), rsPod('p1'), rsPod('p2'), rsPod('p3')]);
    expect([nodeOf('p1'), nodeOf('p2'), nodeOf('p3')]).toEqual(['a', 'b', 'a']);
  });

  it('a binding is a put with spec.nodeName and PodScheduled=True; nothing at all when all is bound', () => {
    const { r } = run([node('a'), rsPod('p1')]);
    expect(r.changes.map((c) => c.op)).toEqual(['put', 'status']);
    const again = run([node('a'), rsPod('p1', { node: 'a' })]);
    expect(again.r.changes).toEqual([]);
  });

  it('prefers the node with fewest pods of the group, then fewest pods in total', () => {
    const { nodeOf } = run([node('a'), node('b'), rsPod('x', { node: 'a', rs: 'other' }), rsPod('y', { node: 'b', rs: 'other' }), rsPod('z', { node: 'b', rs: 'other' }), rsPod('p1')]);
    expect(nodeOf('p1')).toBe('a');
  });

  it('never moves a bound pod to rebalance', () => {
    const { r } = run([node('a'), node('b'), rsPod('p1', { node: 'a' }), rsPod('p2', { node: 'a' })]);
    expect(r.changes).toEqual([]);
  });

  it('cordon keeps bound pods but binds no new ones there', () => {
    const { r, nodeOf } = run([node('a', { cordoned: true }), node('b'), rsPod('p1', { node: 'a' }), rsPod('p2')]);
    expect(nodeOf('p2')).toBe('b');
    expect(r.changes.some((c) => c.op === 'delete')).toBe(false);
  });

  it('memory: requests must fit in available memory minus what bound pods reserve; the limit stands in for a request', () => {
    const big = [container('app', { resources: { limits: { memory: '600Mi' } } })];
    const { nodeOf, w } = run([node('a', { memory: '1Gi' }), rsPod('p1', { containers: big }), rsPod('p2', { containers: big })]);
    expect(nodeOf('p1')).toBe('a');
    expect(nodeOf('p2')).toBeUndefined();
    const p2 = pods(w).find((p) => p.metadata.name === 'p2')!;
    expect(p2.status?.conditions?.[0]).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory' });
  });

  it('a pod that ended (a finished Job\'s) holds no memory and no port', () => {
    const big = [container('app', { resources: { limits: { memory: '600Mi' } }, ports: [{ containerPort: 80, hostPort: 80 }] })];
    const done = { ...rsPod('done', { node: 'a', kind: 'Job', rs: 'backup', containers: big }), status: { phase: 'Succeeded' as const } };
    const { nodeOf } = run([node('a', { memory: '1Gi' }), done, rsPod('p1', { containers: big })]);
    expect(nodeOf('p1')).toBe('a');
  });

  it('hostPorts: a second claimant of a port stays Pending; other ports and protocols do not clash', () => {
    const port = (n: number, protocol = 'TCP') => [container('app', { ports: [{ containerPort: 80, hostPort: n, protocol }] })];
    const { nodeOf } = run([node('a'), rsPod('p1', { containers: port(80) }), rsPod('p2', { containers: port(80) }), rsPod('p3', { containers: port(80, 'UDP') }), rsPod('p4', { containers: port(81) })]);
    expect([nodeOf('p1'), nodeOf('p2'), nodeOf('p3'), nodeOf('p4')]).toEqual(['a', undefined, 'a', 'a']);
  });

  it('arch annotation restricts only nodes that reported their arch', () => {
    const arm = { annotations: { 'grove.io/arch': 'arm64' } };
    const { nodeOf } = run([node('a', { arch: 'x86_64' }), node('b', { arch: 'aarch64' }), node('c'), rsPod('p1', arm), rsPod('p2', arm), rsPod('p3', arm)]);
    expect([nodeOf('p1'), nodeOf('p2'), nodeOf('p3')].sort()).toEqual(['b', 'b', 'c'].sort());
  });
});

describe('scheduler: Pending (FailedScheduling)', () => {
  it('counts every node once, under the first check it fails, in a fixed order', () => {
    const { w } = run([
      node('a', { ready: false, since: T0 - 1000 }),
      node('b', { cordoned: true }),
      node('c'),
      node('d', { labels: { disk: 'ssd' }, memory: '10Mi' }),
      rsPod('p1', { selector: { disk: 'ssd' }, containers: [container('app', { resources: { requests: { memory: '64Mi' } } })] }),
    ]);
    expect(pods(w)[0]!.status?.conditions?.[0]?.message).toBe(
      "0/4 nodes are available: 1 node(s) were not ready, 1 node(s) were cordoned, 1 node(s) didn't match Pod's node affinity/selector, 1 Insufficient memory",
    );
  });

  it('says so when no node has joined', () => {
    const { w } = run([rsPod('p1')]);
    expect(pods(w)[0]!.status?.conditions?.[0]?.message).toBe('0/0 nodes are available: no node has joined the cluster');
  });

  it('writes nothing for a Pending pod whose reason is unchanged, and rewrites a changed one', () => {
    const first = run([node('a', { labels: {} }), rsPod('p1', { selector: { x: 'y' } })]);
    const again = sched.reconcile(snapshot(first.w));
    expect(again.changes).toEqual([]);
    first.w.objects.Node = [node('a', { cordoned: true })];
    const changed = sched.reconcile(snapshot(first.w));
    expect(changed.changes).toHaveLength(1);
    expect((changed.changes[0] as { status: { conditions: { message: string }[] } }).status.conditions[0]!.message).toBe('0/1 nodes are available: 1 node(s) were cordoned');
  });

  it('binds a Pending pod under its own name as soon as a node fits', () => {
    const first = run([node('a', { cordoned: true }), rsPod('p1')]);
    first.w.objects.Node = [node('a')];
    const r = sched.reconcile(snapshot(first.w));
    applyChanges(first.w, r.changes);
    expect(pods(first.w)[0]!.spec.nodeName).toBe('a');
    expect(pods(first.w)[0]!.status?.conditions?.[0]).toMatchObject({ type: 'PodScheduled', status: 'True' });
  });
});

describe('scheduler: moves', () => {
  it('deletes pods whose node left, and controlled pods whose node lost the selected label', () => {
    const { r } = run([node('a'), rsPod('gone', { node: 'zz' }), rsPod('sel', { node: 'a', selector: { disk: 'ssd' } })]);
    expect(r.changes.filter((c) => c.op === 'delete').map((c) => (c as { ref: { name: string } }).ref.name).sort()).toEqual(['gone', 'sel']);
  });

  it('keeps pods selected by labels a node reports itself until it has reported (a Node migrated from 0.1), then judges them', () => {
    const selector = { 'node.grove.io/disk': 'ssd', 'kubernetes.io/arch': 'arm64' };
    const deleted = (r: ReturnType<typeof sched.reconcile>) => r.changes.flatMap((c) => (c.op === 'delete' ? [c.ref.name] : []));
    // Not reported: unknown, not different. An API label is the server's own: judged at once.
    expect(deleted(run([node('a'), rsPod('self', { node: 'a', selector }), rsPod('api', { node: 'a', selector: { disk: 'ssd' } })]).r)).toEqual(['api']);
    // Its report (no such labels) decides; so does a Node that holds what it reported before.
    const w = world([node('a'), rsPod('self', { node: 'a', selector })]);
    w.reports.set('a', report('a', []));
    expect(deleted(sched.reconcile(snapshot(w)))).toEqual(['self']);
    expect(deleted(run([node('a', { arch: 'arm64' }), rsPod('self', { node: 'a', selector })]).r)).toEqual(['self']);
    expect(deleted(run([node('a', { arch: 'arm64', labels: { 'node.grove.io/disk': 'ssd', 'kubernetes.io/arch': 'arm64' } }), rsPod('self', { node: 'a', selector })]).r)).toEqual([]);
    // A new pod waits for the labels.
    const pending = run([node('a'), rsPod('new', { selector })]);
    expect(pending.nodeOf('new')).toBeUndefined();
  });

  it('leaves DaemonSet pods to their controller', () => {
    const { r } = run([node('a'), rsPod('ds', { node: 'a', kind: 'DaemonSet', rs: 'agent', selector: { disk: 'ssd' } })]);
    expect(r.changes).toEqual([]);
  });

  it('evicts ReplicaSet pods from a node NotReady longer than the timeout, only when another node can take one', () => {
    const down = T0 - 6 * 60_000;
    const { r } = run([node('a', { ready: false, since: down }), node('b'), node('c'), rsPod('p1', { node: 'a' })]);
    expect(r.changes).toEqual([{ op: 'delete', ref: { kind: 'Pod', namespace: 'default', name: 'p1' } }]);
    const nowhere = run([node('a', { ready: false, since: down }), node('b', { cordoned: true }), node('c', { cordoned: true }), rsPod('p1', { node: 'a' })]);
    expect(nowhere.r.changes).toEqual([]);
  });

  it('asks to wake up when the next eviction falls due, and honours grove.io/eviction-timeout', () => {
    const down = T0 - 60_000;
    const { r } = run([node('a', { ready: false, since: down }), node('b'), node('c'), rsPod('p1', { node: 'a' })]);
    expect(r.changes).toEqual([]);
    expect(r.wakeAt).toBe(down + 5 * 60_000);
    const quick = run([node('a', { ready: false, since: down }), node('b'), node('c'), rsPod('p1', { node: 'a', annotations: { 'grove.io/eviction-timeout': '30s' } })]);
    expect(quick.r.changes).toHaveLength(1);
  });

  it('partition guard: no eviction while more than 55 % of the nodes are NotReady', () => {
    const down = T0 - 3600_000;
    const r = schedule({
      nodes: [
        { name: 'a', labels: {}, cordoned: false, taints: [], factsKnown: true, ready: false, notReadySince: down },
        { name: 'b', labels: {}, cordoned: false, taints: [], factsKnown: true, ready: false, notReadySince: down },
        { name: 'c', labels: {}, cordoned: false, taints: [], factsKnown: true, ready: true },
      ],
      pods: [{ key: 'default/p1', node: 'a', group: 'g', movable: true, evictionTimeoutMs: 1000, demands: { memoryBytes: 0, hostPorts: [], nodeSelector: {}, tolerations: [], namespace: 'default' } }],
      now: T0,
    });
    expect(r.deletions).toEqual([]);
    expect(r.evictionsPaused).toEqual({ notReady: 2, total: 3 });
  });

  it('does not evict Job pods', () => {
    const { r } = run([node('a', { ready: false, since: T0 - 3600_000 }), node('b'), node('c'), rsPod('j', { node: 'a', kind: 'Job', rs: 'backup' })]);
    expect(r.changes).toEqual([]);
  });
});
