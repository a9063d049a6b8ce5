/**
 * The rules of affinity, spread constraints and label selectors that a schema cannot say
 * (Kubernetes' validation): which operators take values, minDomains only with DoNotSchedule,
 * matchLabelKeys not also in the labelSelector. Pure; problems carry paths relative to what
 * was checked.
 */
import { expressionProblem, type SelectorExpression, type SelectorObject } from '../label-selector.js';
import type { PathSegment, RuleProblem } from './pod-rules.js';
import type { Affinity, NodeSelectorTerm, PodAffinityTerm, TopologySpreadConstraint } from './affinity.js';

function expressionProblems(expressions: readonly SelectorExpression[] | undefined, path: PathSegment[]): RuleProblem[] {
  const out: RuleProblem[] = [];
  (expressions ?? []).forEach((e, i) => {
    const reason = expressionProblem(e);
    if (reason) out.push({ path: [...path, i, 'values'], reason });
  });
  return out;
}

/** A LabelSelector's expressions, relative to the selector. */
export function labelSelectorProblems(s: SelectorObject | undefined): RuleProblem[] {
  return expressionProblems(s?.matchExpressions, ['matchExpressions']);
}

const under = (base: PathSegment[], problems: RuleProblem[]): RuleProblem[] => problems.map((p) => ({ path: [...base, ...p.path], reason: p.reason }));

function nodeTermProblems(t: NodeSelectorTerm, path: PathSegment[]): RuleProblem[] {
  const out = expressionProblems(t.matchExpressions, [...path, 'matchExpressions']);
  (t.matchFields ?? []).forEach((f, i) => {
    if (!f.values?.length) out.push({ path: [...path, 'matchFields', i, 'values'], reason: `operator ${f.operator} needs at least one value` });
  });
  return out;
}

function podTermProblems(t: PodAffinityTerm, path: PathSegment[]): RuleProblem[] {
  return [...under([...path, 'labelSelector'], labelSelectorProblems(t.labelSelector)), ...under([...path, 'namespaceSelector'], labelSelectorProblems(t.namespaceSelector))];
}

/** Relative to the PodSpec. */
export function affinityProblems(a: Affinity | undefined): RuleProblem[] {
  if (!a) return [];
  const out: RuleProblem[] = [];
  const node = a.nodeAffinity;
  const required = 'requiredDuringSchedulingIgnoredDuringExecution';
  const preferred = 'preferredDuringSchedulingIgnoredDuringExecution';
  node?.[required]?.nodeSelectorTerms.forEach((t, i) => out.push(...nodeTermProblems(t, ['affinity', 'nodeAffinity', required, 'nodeSelectorTerms', i])));
  node?.[preferred]?.forEach((p, i) => out.push(...nodeTermProblems(p.preference, ['affinity', 'nodeAffinity', preferred, i, 'preference'])));
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    a[kind]?.[required]?.forEach((t, i) => out.push(...podTermProblems(t, ['affinity', kind, required, i])));
    a[kind]?.[preferred]?.forEach((w, i) => out.push(...podTermProblems(w.podAffinityTerm, ['affinity', kind, preferred, i, 'podAffinityTerm'])));
  }
  return out;
}

/** Relative to the PodSpec. */
export function spreadProblems(constraints: readonly TopologySpreadConstraint[] | undefined): RuleProblem[] {
  const out: RuleProblem[] = [];
  (constraints ?? []).forEach((c, i) => {
    const path = ['topologySpreadConstraints', i];
    out.push(...under([...path, 'labelSelector'], labelSelectorProblems(c.labelSelector)));
    if (c.minDomains !== undefined && c.whenUnsatisfiable !== 'DoNotSchedule') out.push({ path: [...path, 'minDomains'], reason: 'is allowed only with whenUnsatisfiable: DoNotSchedule' });
    const selected = new Set([...Object.keys(c.labelSelector?.matchLabels ?? {}), ...(c.labelSelector?.matchExpressions ?? []).map((e) => e.key)]);
    (c.matchLabelKeys ?? []).forEach((k, j) => {
      if (selected.has(k)) out.push({ path: [...path, 'matchLabelKeys', j], reason: `${k} is also in labelSelector: give it in one of them` });
    });
  });
  return out;
}
