/**
 * PURE rules the scheduler applies to one app and one node: eligibility (selector, arch,
 * readiness), memory requests, eviction timeouts, and the orderings that make passes
 * deterministic.
 */
import type { App, PodAssignment } from '../core/model.js';
import { parseDurationSeconds } from '../core/quantity.js';
import { podHostPorts } from '../core/wire-ports.js';
import type { ResolvedStrategy } from './update-strategy.js';

export interface NodeFactsView {
  arch?: string;
  memoryAvailableBytes?: number;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  cordoned: boolean;
  ready: boolean;
  /**
   * ISO time the node went from Ready to NotReady; absent while Ready and for a node that has
   * never been Ready (joined, agent not up yet: pods may be placed there and wait for it).
   */
  notReadySince?: string;
  /** Absent until the node has reported; unknown facts never make a node ineligible. */
  facts?: NodeFactsView;
}

/** Hook: may this app run on this node's CPU architecture? */
export type ArchCompatible = (app: App, node: NodeView) => boolean;

export const EVICTION_TIMEOUT_ANNOTATION = 'grove.io/eviction-timeout';
export const DEFAULT_EVICTION_TIMEOUT_MS = 5 * 60_000;
/** More than this share of nodes NotReady at once pauses evictions (likely a partition). */
export const PARTITION_THRESHOLD = 0.55;

/**
 * The app's eviction timeout: its grove.io/eviction-timeout annotation ("90s", "10m") when
 * valid, else the cluster default. Validation rejects bad values at apply; one that slipped
 * in (older server) falls back rather than failing the whole pass.
 */
export function evictionTimeoutMs(app: App, fallbackMs: number): number {
  const raw = app.meta.annotations[EVICTION_TIMEOUT_ANNOTATION] ?? app.spec.template.annotations[EVICTION_TIMEOUT_ANNOTATION];
  if (raw === undefined) return fallbackMs;
  try {
    return parseDurationSeconds(raw, EVICTION_TIMEOUT_ANNOTATION) * 1000;
  } catch {
    return fallbackMs;
  }
}

/** Whether a node takes new pods: Ready, or never Ready yet (it has not failed, it is coming). */
export function acceptsNewPods(node: NodeView): boolean {
  return node.ready || node.notReadySince === undefined;
}

export const ARCH_ANNOTATION = 'grove.io/arch';

const ARCH_ALIASES: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', armhf: 'arm' };

/** An architecture in OCI/Kubernetes spelling (amd64, arm64, arm) whatever the reporter called it. */
export function normArch(arch: string): string {
  const a = arch.trim().toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

/**
 * Default arch rule. The image's platforms are not known at schedule time (the node resolves
 * the manifest list when it pulls), so an app is only restricted when it says so with the
 * grove.io/arch annotation ("arm64" or "arm64,arm") and the node has reported its arch.
 */
export const defaultArchCompatible: ArchCompatible = (app, node) => {
  const wanted = app.spec.template.annotations[ARCH_ANNOTATION] ?? app.meta.annotations[ARCH_ANNOTATION];
  if (!wanted || !node.facts?.arch) return true;
  const arch = normArch(node.facts.arch);
  return wanted.split(',').some((w) => normArch(w) === arch);
};

/** Memory the scheduler reserves for one pod of the app: requests, else limits, else 0. */
export function appMemoryRequest(app: App): number {
  let sum = 0;
  for (const c of app.spec.template.containers) sum += c.resources.requestMemoryBytes ?? c.resources.memoryBytes ?? 0;
  return sum;
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Oldest first: createdAt, then name (names are random, but the order must be total). */
export function oldestFirst(a: PodAssignment, b: PodAssignment): number {
  const ca = a.meta.createdAt ?? '';
  const cb = b.meta.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0;
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}


/**
 * The hostPorts ("8080/TCP") one pod of the app claims on its node. A node where another pod
 * claims one of them cannot take the pod (Kubernetes' NodePorts filter): with no other node, the
 * pod stays Pending with the reason rather than fail on the node.
 */
export function appHostPorts(app: App): string[] {
  return podHostPorts([...(app.spec.template.initContainers ?? []), ...app.spec.template.containers]);
}

/**
 * A rolling update of an app that publishes hostPorts: the new pod cannot take the port while
 * an old one holds it on the same node, so at least one old pod may go before its replacement
 * is available (maxUnavailable ≥ 1; a DaemonSet, whose new pod always lands beside the old one,
 * also never surges). Without this a one-node Deployment with the default 25 % / 25 % would
 * wait for ever.
 */
export function hostPortStrategy(app: App, s: ResolvedStrategy): ResolvedStrategy {
  if (s.type !== 'RollingUpdate' || appHostPorts(app).length === 0) return s;
  return { ...s, ...(app.spec.kind === 'DaemonSet' ? { maxSurge: 0 } : {}), maxUnavailable: Math.max(1, s.maxUnavailable) };
}
