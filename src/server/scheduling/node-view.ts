/**
 * PURE: what the scheduler and the DaemonSet controller need of a node, read from its Node
 * object (labels, cordon, taints, Ready condition, nodeInfo, allocatable) and its last report (the live
 * memory figure). Unknown facts never make a node ineligible.
 */
import type { KindObject } from '../../core/objects/validate.js';
import type { Taint } from '../../core/objects/taints.js';
import { parseK8sMemory } from '../../core/manifests/k8s-quantity.js';
import type { NodeReport } from '../controllers/controller.js';
import { conditionOf, parseTime } from '../controllers/object-kit.js';

export interface NodeView {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** spec.unschedulable (`grove node cordon`, `kubectl cordon`). */
  cordoned: boolean;
  /** spec.taints. */
  taints: readonly Taint[];
  ready: boolean;
  /**
   * Milliseconds since the node's Ready condition went False/Unknown; absent while Ready and
   * for a node never Ready (joined, agent not up yet: pods may be placed there and wait for it).
   */
  notReadySince?: number;
  /** OCI spelling (amd64, arm64, arm) when known. */
  arch?: string;
  /** What the node last reported free; else its allocatable memory; absent = unknown. */
  memoryAvailableBytes?: number;
  /**
   * Whether the labels the node reports about itself (node.grove.io/…, kubernetes.io/os|arch)
   * are known: it reported since the server started, or its Node holds what it reported before
   * (status.nodeInfo). A Node migrated from 0.1 has not: 0.1 kept those labels in memory only.
   */
  factsKnown: boolean;
}

const ARCH_ALIASES: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', armhf: 'arm' };

/** An architecture in OCI/Kubernetes spelling whatever the reporter called it. */
export function normArch(arch: string): string {
  const a = arch.trim().toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

export function nodeView(node: KindObject<'Node'>, report?: NodeReport): NodeView {
  const labels = node.metadata.labels ?? {};
  const ready = conditionOf(node.status?.conditions, 'Ready');
  const view: NodeView = {
    name: node.metadata.name,
    labels,
    cordoned: node.spec?.unschedulable === true,
    taints: node.spec?.taints ?? [],
    ready: ready?.status === 'True',
    factsKnown: report !== undefined || node.status?.nodeInfo !== undefined,
  };
  if (ready !== undefined && ready.status !== 'True') {
    const since = parseTime(ready.lastTransitionTime);
    if (since !== undefined) view.notReadySince = since;
  }
  const arch = report?.status.facts.arch || node.status?.nodeInfo?.architecture || labels['kubernetes.io/arch'];
  if (arch) view.arch = normArch(arch);
  const memory = report?.status.facts.memoryAvailableBytes ?? allocatableMemory(node);
  if (memory !== undefined) view.memoryAvailableBytes = memory;
  return view;
}

function allocatableMemory(node: KindObject<'Node'>): number | undefined {
  const raw = node.status?.allocatable?.memory;
  if (raw === undefined) return undefined;
  try {
    return parseK8sMemory(raw, 'allocatable.memory');
  } catch {
    return undefined;
  }
}

/** Whether a node takes new pods: Ready, or never Ready yet (it has not failed, it is coming). */
export function acceptsNewPods(node: NodeView): boolean {
  return node.ready || node.notReadySince === undefined;
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
