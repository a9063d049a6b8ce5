/**
 * PURE: node affinity and inter-pod affinity as Kubernetes' NodeAffinity and InterPodAffinity
 * plugins judge them. Topology keys are node labels (any key: kubernetes.io/hostname is each
 * node alone, zone labels group nodes); a node without the key's label is in no domain.
 * Required terms filter nodes, preferred ones score them (scoring.ts).
 */
import { nodeSelectorMatches, nodeTermMatches, selectorMatches } from '../../core/label-selector.js';
import type { Affinity, PodAffinityTerm } from '../../core/objects/affinity.js';
import { HOSTNAME_LABEL } from '../node-labels.js';
import type { NodeView } from './node-view.js';

/** A pod as affinity sees it: where it runs and what it is. */
export interface AffinityPod {
  namespace: string;
  /** Absent for a pod that has ended: it matches no term. */
  labels?: Readonly<Record<string, string>>;
  affinity?: Affinity;
}

/** Namespace labels, for namespaceSelector. */
export type NamespaceLabels = ReadonlyMap<string, Readonly<Record<string, string>>>;

/** The topology domain of a node for `key`; undefined when the node has no such label. */
export function domainOf(node: NodeView, key: string): string | undefined {
  return key === HOSTNAME_LABEL ? node.name : node.labels[key];
}

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution';

/** Required node affinity: no terms = any node; else at least one term matches. */
export function nodeAffinityMatches(affinity: Affinity | undefined, node: NodeView): boolean {
  const terms = affinity?.nodeAffinity?.[REQUIRED]?.nodeSelectorTerms;
  return !terms || nodeSelectorMatches(terms, node);
}

/** Sum of the weights of the preferred node terms the node matches. */
export function nodePreferenceScore(affinity: Affinity | undefined, node: NodeView): number {
  let score = 0;
  for (const p of affinity?.nodeAffinity?.[PREFERRED] ?? []) if (nodeTermMatches(p.preference, node)) score += p.weight;
  return score;
}

/**
 * Whether a term written on a pod in `ownNamespace` selects `pod`: its namespaces (the own one
 * when neither namespaces nor namespaceSelector is given) and its labelSelector.
 */
export function termSelects(term: PodAffinityTerm, ownNamespace: string, pod: AffinityPod, namespaces: NamespaceLabels): boolean {
  if (!pod.labels) return false;
  const listed = term.namespaces ?? [];
  const inNamespace =
    listed.length === 0 && !term.namespaceSelector
      ? pod.namespace === ownNamespace
      : listed.includes(pod.namespace) || (term.namespaceSelector !== undefined && selectorMatches(term.namespaceSelector, namespaces.get(pod.namespace) ?? {}));
  return inNamespace && selectorMatches(term.labelSelector, pod.labels);
}

/** The pods placed so far, with their nodes: what the inter-pod checks read. */
export interface PodsByNode {
  nodes: readonly NodeView[];
  podsAt(node: string): readonly AffinityPod[];
  /** The placed pods with required anti-affinity (few): checked against every new pod. */
  withAntiAffinity(): readonly { node: NodeView; pod: AffinityPod }[];
}

/** Whether a pod the term selects runs in the node's domain of the term's key. */
function selectedInDomain(term: PodAffinityTerm, own: AffinityPod, node: NodeView, world: PodsByNode, namespaces: NamespaceLabels): boolean {
  const domain = domainOf(node, term.topologyKey);
  if (domain === undefined) return false;
  for (const other of world.nodes) {
    if (domainOf(other, term.topologyKey) !== domain) continue;
    if (world.podsAt(other.name).some((q) => termSelects(term, own.namespace, q, namespaces))) return true;
  }
  return false;
}

export type InterPodRejection = 'podAffinity' | 'podAntiAffinity' | 'existingAntiAffinity';

/**
 * The first inter-pod rule the node breaks for `pod`, Kubernetes' order: existing pods'
 * required anti-affinity, then the pod's own anti-affinity, then its affinity. A pod whose
 * affinity selects no pod anywhere may still go where it would satisfy itself (the first
 * replica of a group that keeps together).
 */
export function interPodRejection(pod: AffinityPod, node: NodeView, world: PodsByNode, namespaces: NamespaceLabels): InterPodRejection | undefined {
  if (existingAntiAffinityBlocks(pod, node, world, namespaces)) return 'existingAntiAffinity';
  const anti = pod.affinity?.podAntiAffinity?.[REQUIRED] ?? [];
  if (anti.some((t) => selectedInDomain(t, pod, node, world, namespaces))) return 'podAntiAffinity';
  const affinity = pod.affinity?.podAffinity?.[REQUIRED] ?? [];
  if (affinity.length === 0 || affinity.every((t) => selectedInDomain(t, pod, node, world, namespaces))) return undefined;
  const anyMatch = world.nodes.some((n) => world.podsAt(n.name).some((q) => affinity.every((t) => termSelects(t, pod.namespace, q, namespaces))));
  const selfMatch = affinity.every((t) => termSelects(t, pod.namespace, pod, namespaces) && domainOf(node, t.topologyKey) !== undefined);
  return !anyMatch && selfMatch ? undefined : 'podAffinity';
}

/** A pod already placed whose required anti-affinity selects `pod`, in the node's domain of its key. */
function existingAntiAffinityBlocks(pod: AffinityPod, node: NodeView, world: PodsByNode, namespaces: NamespaceLabels): boolean {
  for (const { node: other, pod: q } of world.withAntiAffinity()) {
    for (const t of q.affinity?.podAntiAffinity?.[REQUIRED] ?? []) {
      const domain = domainOf(node, t.topologyKey);
      if (domain !== undefined && domainOf(other, t.topologyKey) === domain && termSelects(t, q.namespace, pod, namespaces)) return true;
    }
  }
  return false;
}

/** Whether a pod carries required anti-affinity (Placement indexes those). */
export function hasRequiredAntiAffinity(pod: AffinityPod): boolean {
  return (pod.affinity?.podAntiAffinity?.[REQUIRED]?.length ?? 0) > 0;
}

/**
 * Preferred pod affinity minus preferred anti-affinity: each selected pod in the node's domain
 * counts the term's weight, as Kubernetes' InterPodAffinity score does.
 */
export function podPreferenceScore(pod: AffinityPod, node: NodeView, world: PodsByNode, namespaces: NamespaceLabels): number {
  let score = 0;
  const terms = [
    ...(pod.affinity?.podAffinity?.[PREFERRED] ?? []).map((w) => ({ w: w.weight, t: w.podAffinityTerm })),
    ...(pod.affinity?.podAntiAffinity?.[PREFERRED] ?? []).map((w) => ({ w: -w.weight, t: w.podAffinityTerm })),
  ];
  for (const { w, t } of terms) {
    const domain = domainOf(node, t.topologyKey);
    if (domain === undefined) continue;
    for (const other of world.nodes) {
      if (domainOf(other, t.topologyKey) !== domain) continue;
      for (const q of world.podsAt(other.name)) if (termSelects(t, pod.namespace, q, namespaces)) score += w;
    }
  }
  return score;
}

/** Kubernetes labels every namespace with its own name; namespaceSelector may select by it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The namespaces' labels as namespaceSelector reads them. */
export function namespaceLabelsOf(namespaces: readonly { metadata: { name: string; labels?: Record<string, string> } }[]): NamespaceLabels {
  return new Map(namespaces.map((n) => [n.metadata.name, { ...n.metadata.labels, [NAMESPACE_NAME_LABEL]: n.metadata.name }]));
}
