/**
 * PURE: the one evaluator of Kubernetes label selectors, whatever form they come in: the
 * text form of the API (`?labelSelector=`, parsed in src/server/objects/label-selector.ts),
 * a LabelSelector object (matchLabels + matchExpressions: workload selectors, pod affinity
 * terms, topology spread constraints) and a node selector requirement (node affinity, which
 * adds Gt and Lt). As in Kubernetes, NotIn and DoesNotExist also match objects without the label.
 */

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

/** A parsed selector: every requirement must hold ([] selects everything). */
export type Selector = readonly Requirement[];

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export const NODE_SELECTOR_OPERATORS = [...SELECTOR_OPERATORS, 'Gt', 'Lt'] as const;
export type SelectorOperator = (typeof NODE_SELECTOR_OPERATORS)[number];

/** One matchExpressions entry (LabelSelectorRequirement, NodeSelectorRequirement). */
export interface SelectorExpression {
  key: string;
  operator: SelectorOperator;
  values?: readonly string[];
}

/** A LabelSelector object as the manifests carry it. */
export interface SelectorObject {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly SelectorExpression[];
}

/** Gt and Lt compare whole numbers (Kubernetes parses both sides as int64). */
const INTEGER = /^-?\d{1,18}$/;

/**
 * Why an expression is malformed (Kubernetes' validation), or undefined: In/NotIn need values,
 * Exists/DoesNotExist take none, Gt/Lt take exactly one whole number.
 */
export function expressionProblem(e: SelectorExpression): string | undefined {
  const n = e.values?.length ?? 0;
  switch (e.operator) {
    case 'In':
    case 'NotIn':
      return n === 0 ? `operator ${e.operator} needs at least one value` : undefined;
    case 'Exists':
    case 'DoesNotExist':
      return n > 0 ? `operator ${e.operator} takes no values` : undefined;
    case 'Gt':
    case 'Lt':
      return n !== 1 || !INTEGER.test(e.values![0]!) ? `operator ${e.operator} needs exactly one value, a whole number` : undefined;
  }
}

/** An expression as a requirement; a malformed one (refused at apply) matches nothing. */
export function requirementOf(e: SelectorExpression): Requirement {
  switch (e.operator) {
    case 'In':
      return { key: e.key, op: 'in', values: e.values ?? [] };
    case 'NotIn':
      return { key: e.key, op: 'notin', values: e.values ?? [] };
    case 'Exists':
      return { key: e.key, op: 'exists' };
    case 'DoesNotExist':
      return { key: e.key, op: 'notexists' };
    case 'Gt':
    case 'Lt': {
      const raw = e.values?.[0];
      const value = raw !== undefined && INTEGER.test(raw) ? Number(raw) : NaN;
      return { key: e.key, op: e.operator === 'Gt' ? 'gt' : 'lt', value };
    }
  }
}

/** A LabelSelector object as requirements: matchLabels pairs, then matchExpressions. */
export function selectorOf(s: SelectorObject): Selector {
  const out: Requirement[] = Object.entries(s.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in', values: [v] }));
  for (const e of s.matchExpressions ?? []) out.push(requirementOf(e));
  return out;
}

/** Whether `labels` satisfy every requirement of `selector`. */
export function matches(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector.every((r) => {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
      case 'gt':
      case 'lt': {
        if (!has || !INTEGER.test(labels[r.key]!) || Number.isNaN(r.value)) return false;
        const n = Number(labels[r.key]);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

/**
 * Kubernetes' LabelSelectorAsSelector: an absent selector selects nothing, an empty one
 * everything (pod affinity terms and spread constraints rely on both).
 */
export function selectorMatches(s: SelectorObject | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  return s !== undefined && s !== null && matches(selectorOf(s), labels);
}

/**
 * The text form kubectl prints (metav1.FormatLabelSelector) and the API takes, requirements
 * sorted by key: `app=web,tier in (a,b),!legacy`; "" for an empty selector.
 */
export function selectorText(s: SelectorObject | undefined): string {
  const terms: [string, string][] = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of s?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text = { In: `${e.key} in (${values})`, NotIn: `${e.key} notin (${values})`, Exists: e.key, DoesNotExist: `!${e.key}`, Gt: `${e.key}>${values}`, Lt: `${e.key}<${values}` }[e.operator];
    terms.push([e.key, text]);
  }
  return terms
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((t) => t[1])
    .join(',');
}

/** A node selector term (node affinity, a volume's nodeAffinity): expressions on labels, fields on the name. */
export interface NodeSelectorTermLike {
  matchExpressions?: readonly SelectorExpression[];
  matchFields?: readonly SelectorExpression[];
}

/**
 * Kubernetes' rule: every expression and field requirement of the term holds; a term with
 * neither matches no node. `metadata.name` is the only field.
 */
export function nodeTermMatches(term: NodeSelectorTermLike, node: { name: string; labels: Readonly<Record<string, string>> }): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  if (!matches(expressions.map(requirementOf), node.labels)) return false;
  return fields.every((f) => f.key === 'metadata.name' && matches([requirementOf(f)], { [f.key]: node.name }));
}

/** The terms are ORed: at least one matches. */
export function nodeSelectorMatches(terms: readonly NodeSelectorTermLike[], node: { name: string; labels: Readonly<Record<string, string>> }): boolean {
  return terms.some((t) => nodeTermMatches(t, node));
}
