/**
 * Node affinity, pod (anti-)affinity, topology spread, tolerationSeconds and selectors with
 * matchExpressions: the pure deciders (core/label-selector.ts, scheduling/affinity.ts,
 * spread.ts, scoring.ts, schedule.ts) asserted on their outputs.
 */
import { describe, expect, it } from 'vitest';
import { matches, nodeTermMatches, selectorMatches, selectorOf, selectorText } from '../../src/core/label-selector.js';
import type { Affinity, TopologySpreadConstraint } from '../../src/core/objects/affinity.js';
import { affinityProblems, spreadProblems } from '../../src/core/objects/affinity-rules.js';
import { tolerationDeadline, type Taint, type Toleration } from '../../src/core/objects/taint-rules.js';
import type { NodeView } from '../../src/server/scheduling/node-view.js';
import type { PodDemands } from '../../src/server/scheduling/pod-demands.js';
import { schedule, type SchedulingPod } from '../../src/server/scheduling/schedule.js';
import { stampedTaints } from '../../src/server/scheduling/node-taints.js';
import { totalScores } from '../../src/server/scheduling/scoring.js';

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): NodeView => ({
  name,
  labels: { 'kubernetes.io/hostname': name, ...labels },
  cordoned: false,
  taints,
  ready: true,
  factsKnown: true,
});

function demands(extra: Partial<PodDemands> = {}): PodDemands {
  return { memoryBytes: 0, hostPorts: [], nodeSelector: {}, tolerations: [], namespace: 'default', labels: { app: 'web' }, ...extra };
}

let created = 0;
function pod(name: string, d: Partial<PodDemands> = {}, at?: string): SchedulingPod {
  return { key: `${d.namespace ?? 'default'}/${name}`, group: 'g', demands: demands(d), movable: true, createdAt: ++created, ...(at ? { node: at } : {}) };
}

const where = (r: ReturnType<typeof schedule>, name: string) => r.bindings.find((b) => b.key === `default/${name}`)?.node;
const why = (r: ReturnType<typeof schedule>, name: string) => r.unschedulable.find((u) => u.key === `default/${name}`)?.message;
const REQ = 'requiredDuringSchedulingIgnoredDuringExecution' as const;
const PREF = 'preferredDuringSchedulingIgnoredDuringExecution' as const;

describe('selectors with matchExpressions', () => {
  it('evaluates In, NotIn, Exists, DoesNotExist as Kubernetes (NotIn and DoesNotExist select the unlabelled)', () => {
    const s = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['a', 'b'] }, { key: 'env', operator: 'NotIn' as const, values: ['dev'] }, { key: 'legacy', operator: 'DoesNotExist' as const }] };
    expect(selectorMatches(s, { app: 'web', tier: 'b' })).toBe(true);
    expect(selectorMatches(s, { app: 'web', tier: 'c' })).toBe(false);
    expect(selectorMatches(s, { app: 'web', tier: 'a', env: 'dev' })).toBe(false);
    expect(selectorMatches(s, { app: 'web', tier: 'a', legacy: '' })).toBe(false);
    expect(selectorMatches({}, { any: 'x' })).toBe(true);
    expect(selectorMatches(undefined, { any: 'x' })).toBe(false);
    expect(selectorText(s)).toBe('app=web,env notin (dev),!legacy,tier in (a,b)');
  });

  it('node terms add Gt, Lt and matchFields metadata.name; an empty term matches no node', () => {
    const n = { name: 'pi-1', labels: { cores: '4', zone: 'attic' } };
    expect(nodeTermMatches({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['2'] }] }, n)).toBe(true);
    expect(nodeTermMatches({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }, n)).toBe(false);
    expect(nodeTermMatches({ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }, n)).toBe(false);
    expect(nodeTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['pi-1'] }] }, n)).toBe(true);
    expect(nodeTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['pi-1'] }] }, n)).toBe(false);
    expect(nodeTermMatches({}, n)).toBe(false);
    expect(matches(selectorOf({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }), undefined)).toBe(false);
  });

  it('refuses malformed expressions and spread constraints by path', () => {
    const a: Affinity = { nodeAffinity: { [REQ]: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['many'] }, { key: 'x', operator: 'Exists', values: ['1'] }] }] } } };
    expect(affinityProblems(a).map((p) => `${p.path.join('.')}: ${p.reason}`)).toEqual([
      `affinity.nodeAffinity.${REQ}.nodeSelectorTerms.0.matchExpressions.0.values: operator Gt needs exactly one value, a whole number`,
      `affinity.nodeAffinity.${REQ}.nodeSelectorTerms.0.matchExpressions.1.values: operator Exists takes no values`,
    ]);
    const c: TopologySpreadConstraint = { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2, labelSelector: { matchLabels: { app: 'web' } }, matchLabelKeys: ['app'] };
    expect(spreadProblems([c]).map((p) => p.path.join('.'))).toEqual(['topologySpreadConstraints.0.minDomains', 'topologySpreadConstraints.0.matchLabelKeys.0']);
  });
});

describe('node affinity', () => {
  const gpu: Affinity = { nodeAffinity: { [REQ]: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }] } } };

  it('required terms (ORed) keep the pod to matching nodes, with the FailedScheduling words', () => {
    const r = schedule({ nodes: [node('a'), node('b', { gpu: 'i915' })], pods: [pod('p', { affinity: gpu }), pod('q', { affinity: gpu })], now: 0 });
    expect(where(r, 'p')).toBe('b');
    expect(where(r, 'q')).toBe('b');
    const none = schedule({ nodes: [node('a'), node('d')], pods: [pod('p', { affinity: gpu })], now: 0 });
    expect(why(none, 'p')).toBe("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector");
    expect(where(schedule({ nodes: [node('a'), node('c')], pods: [pod('p', { affinity: gpu })], now: 0 }), 'p')).toBe('c');
  });

  it('preferred terms score by weight; without preferences the old spreading order holds', () => {
    const prefer = (w1: number, w2: number): Affinity => ({ nodeAffinity: { [PREF]: [{ weight: w1, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }, { weight: w2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['attic'] }] } }] } });
    const nodes = [node('a'), node('b', { disk: 'ssd' }), node('c', { zone: 'attic' })];
    expect(where(schedule({ nodes, pods: [pod('p', { affinity: prefer(10, 50) })], now: 0 }), 'p')).toBe('c');
    expect(where(schedule({ nodes, pods: [pod('p', { affinity: prefer(60, 50) })], now: 0 }), 'p')).toBe('b');
    expect(where(schedule({ nodes, pods: [pod('x', {}, 'a'), pod('p')], now: 0 }), 'p')).toBe('b');
  });

  it('PreferNoSchedule taints now count: an untainted node wins', () => {
    const nodes = [node('a', {}, [{ key: 'busy', effect: 'PreferNoSchedule' }]), node('b')];
    expect(where(schedule({ nodes, pods: [pod('x', {}, 'b'), pod('p')], now: 0 }), 'p')).toBe('b');
  });
});

describe('pod affinity and anti-affinity', () => {
  const anti: Affinity = { podAntiAffinity: { [REQ]: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };

  it('required anti-affinity on the hostname puts one replica per node, the third waits', () => {
    const r = schedule({ nodes: [node('a'), node('b')], pods: [pod('w1', { affinity: anti }), pod('w2', { affinity: anti }), pod('w3', { affinity: anti })], now: 0 });
    expect(new Set([where(r, 'w1'), where(r, 'w2')])).toEqual(new Set(['a', 'b']));
    // Kubernetes checks the pods already there first: their anti-affinity selects w3 too.
    expect(why(r, 'w3')).toBe("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules");
    const own = schedule({ nodes: [node('a')], pods: [pod('x', {}, 'a'), pod('w', { affinity: anti })], now: 0 });
    expect(why(own, 'w')).toBe("0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules");
  });

  it("an existing pod's anti-affinity keeps matching pods away (symmetry); other namespaces are not selected", () => {
    const r = schedule({ nodes: [node('a'), node('b')], pods: [pod('w1', { affinity: anti }, 'a'), pod('plain', { labels: { app: 'web' } }), pod('other', { namespace: 'tools' })], now: 0 });
    expect(where(r, 'plain')).toBe('b');
    const blocked = schedule({ nodes: [node('a')], pods: [pod('w1', { affinity: anti }, 'a'), pod('plain')], now: 0 });
    expect(why(blocked, 'plain')).toBe("0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules");
    expect(r.bindings.find((b) => b.key === 'tools/other')?.node).toBeDefined();
  });

  it('required affinity follows the selected pods; the first of a self-selecting group may go anywhere', () => {
    const withDb: Affinity = { podAffinity: { [REQ]: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const r = schedule({ nodes: [node('a'), node('b')], pods: [pod('db', { labels: { app: 'db' } }, 'b'), pod('api', { affinity: withDb })], now: 0 });
    expect(where(r, 'api')).toBe('b');
    const lonely = schedule({ nodes: [node('a')], pods: [pod('api', { affinity: withDb })], now: 0 });
    expect(why(lonely, 'api')).toBe("0/1 nodes are available: 1 node(s) didn't match pod affinity rules");
    const together: Affinity = { podAffinity: { [REQ]: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const g = schedule({ nodes: [node('a'), node('b')], pods: [pod('w1', { affinity: together }), pod('w2', { affinity: together })], now: 0 });
    expect(where(g, 'w1')).toBe(where(g, 'w2'));
  });

  it('topology keys other than the hostname group nodes by their label; namespaceSelector picks namespaces by label', () => {
    const zoneAnti: Affinity = { podAntiAffinity: { [REQ]: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone', namespaceSelector: { matchLabels: { team: 'x' } } }] } };
    const nodes = [node('a', { zone: '1' }), node('b', { zone: '1' }), node('c', { zone: '2' })];
    const namespaces = new Map<string, Record<string, string>>([['default', { team: 'x' }], ['tools', { team: 'x' }], ['other', {}]]);
    const r = schedule({ nodes, namespaces, pods: [pod('w0', { namespace: 'tools' }, 'a'), pod('w1', { affinity: zoneAnti })], now: 0 });
    expect(where(r, 'w1')).toBe('c');
    const free = schedule({ nodes, namespaces, pods: [pod('w0', { namespace: 'other' }, 'a'), pod('w1', { affinity: zoneAnti })], now: 0 });
    expect(where(free, 'w1')).not.toBe('c');
  });

  it('preferred anti-affinity spreads without refusing', () => {
    const soft: Affinity = { podAntiAffinity: { [PREF]: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] } };
    const r = schedule({ nodes: [node('a'), node('b')], pods: [pod('x1', { labels: { app: 'web' } }, 'a'), pod('x2', { labels: { app: 'other' } }, 'b'), pod('x3', { labels: { app: 'other' } }, 'b'), pod('w', { affinity: soft })], now: 0 });
    expect(where(r, 'w')).toBe('b');
    expect(where(schedule({ nodes: [node('a')], pods: [pod('x1', {}, 'a'), pod('w', { affinity: soft })], now: 0 }), 'w')).toBe('a');
  });
});

describe('topology spread', () => {
  const spread = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint[] => [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra }];

  it('DoNotSchedule keeps the skew within maxSkew; a node without the key is refused by name', () => {
    const nodes = [node('a', { zone: '1' }), node('b', { zone: '1' }), node('c', { zone: '2' }), node('d')];
    const r = schedule({ nodes, pods: [pod('x1', {}, 'a'), pod('x2', {}, 'b'), pod('p', { spread: spread() })], now: 0 });
    expect(where(r, 'p')).toBe('c');
    const full = schedule({ nodes: [node('a', { zone: '1' }), node('c', { zone: '2' }), node('d')], pods: [pod('x1', {}, 'a'), pod('x2', {}, 'a'), pod('y', {}, 'c'), pod('z', {}, 'c'), pod('p', { spread: spread({ maxSkew: 1 }) })], now: 0 });
    expect(where(full, 'p')).toBeDefined();
    const blocked = schedule({ nodes: [node('a', { zone: '1' }), node('c', { zone: '2' }), node('d')], pods: [pod('x1', {}, 'a'), pod('p', { spread: spread() }), pod('q', { spread: spread() })], now: 0 });
    expect(where(blocked, 'p')).toBe('c');
    expect(where(blocked, 'q')).toBeDefined();
    // The tainted zone still counts (nodeTaintsPolicy Ignore, the default) with its 0 pods.
    const tainted = [node('a', { zone: '1' }), node('c', { zone: '2' }, [{ key: 'k', effect: 'NoSchedule' }]), node('d')];
    const r2 = schedule({ nodes: tainted, pods: [pod('x1', {}, 'a'), pod('p', { spread: spread() })], now: 0 });
    expect(why(r2, 'p')).toBe("0/3 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) didn't match pod topology spread constraints");
    expect(where(schedule({ nodes: tainted, pods: [pod('x1', {}, 'a'), pod('p', { spread: spread({ nodeTaintsPolicy: 'Honor' }) })], now: 0 }), 'p')).toBe('a');
  });

  it('minDomains counts missing domains as empty; ScheduleAnyway only prefers', () => {
    const r = schedule({ nodes: [node('a', { zone: '1' })], pods: [pod('x1', {}, 'a'), pod('p', { spread: spread({ minDomains: 2 }) })], now: 0 });
    expect(why(r, 'p')).toBe("0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints");
    const soft = spread({ whenUnsatisfiable: 'ScheduleAnyway' });
    const s = schedule({ nodes: [node('a', { zone: '1' }), node('c', { zone: '2' })], pods: [pod('x1', {}, 'a'), pod('p', { spread: soft }), pod('q', { spread: soft }), pod('r', { spread: soft })], now: 0 });
    expect([where(s, 'p'), where(s, 'q'), where(s, 'r')].filter((n) => n === 'c')).toHaveLength(2);
  });

  it('scores normalise per plugin: a tie keeps every node equal', () => {
    expect(totalScores([{ nodePreference: 0, podPreference: 0, spreadPenalty: 0, preferNoSchedule: 0 }, { nodePreference: 0, podPreference: 0, spreadPenalty: 0, preferNoSchedule: 0 }])).toEqual([900, 900]);
    const [a, b] = totalScores([{ nodePreference: 10, podPreference: 0, spreadPenalty: 3, preferNoSchedule: 0 }, { nodePreference: 0, podPreference: 0, spreadPenalty: 0, preferNoSchedule: 0 }]);
    expect(a).toBe(b);
  });
});

describe('NoExecute taints with tolerationSeconds', () => {
  const taint: Taint = { key: 'maintenance', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const tol = (seconds?: number): Toleration => ({ key: 'maintenance', operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) });

  it('the smallest seconds of the matching tolerations, from timeAdded; none given = for ever', () => {
    const added = () => t0;
    expect(tolerationDeadline([taint], [tol(60), tol(30)], added)).toBe(t0 + 30_000);
    expect(tolerationDeadline([taint], [tol(60), tol()], added)).toBeUndefined();
    expect(tolerationDeadline([taint], [tol(-5)], added)).toBe(t0);
    expect(tolerationDeadline([taint], [], added)).toBeUndefined();
    expect(tolerationDeadline([taint], [tol(60)], () => undefined)).toBeUndefined();
  });

  it('the pod stays until its seconds run out, the scheduler wakes then, and deletes it', () => {
    const nodes = [node('a', {}, [taint]), node('b')];
    const p = pod('p', { tolerations: [tol(60)] }, 'a');
    const early = schedule({ nodes, pods: [p], now: t0 + 59_000 });
    expect(early.deletions).toEqual([]);
    expect(early.nextEvictionAt).toBe(t0 + 60_000);
    expect(schedule({ nodes, pods: [p], now: t0 + 60_000 }).deletions).toEqual([{ key: 'default/p', reason: 'TaintManagerEviction' }]);
    expect(schedule({ nodes, pods: [pod('q', {}, 'a')], now: t0 }).deletions).toEqual([{ key: 'default/q', reason: 'NodeMismatch' }]);
  });

  it('the node lifecycle stamps timeAdded on NoExecute taints once', () => {
    const stamped = stampedTaints([{ key: 'k', effect: 'NoExecute' }, { key: 'n', effect: 'NoSchedule' }], t0);
    expect(stamped).toEqual([{ key: 'k', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }, { key: 'n', effect: 'NoSchedule' }]);
    expect(stampedTaints(stamped, t0 + 1000)).toBeUndefined();
  });
});
