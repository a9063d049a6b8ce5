/**
 * metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics (what `kubectl top` reads), built from the
 * usage a node sends in its status (WireNodeUsage). PURE.
 */
import { bytesQuantity } from '../../core/quantity.js';
import type { WireNodeUsage, WirePodUsage } from '../../core/objects/wire.js';
import type { DiscoveryResource } from './discovery.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
export const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** Discovery entries of the group (design contract 3: the wiring hands them to the discovery builder). */
export const METRICS_DISCOVERY: readonly DiscoveryResource[] = Object.freeze([
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'NodeMetrics', plural: 'nodes', singular: '', shortNames: [], namespaced: false, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: 'PodMetrics', plural: 'pods', singular: '', shortNames: [], namespaced: true, verbs: ['get', 'list'] },
]);

export interface ResourceUsage {
  cpu: string;
  memory: string;
}

export interface NodeMetrics {
  apiVersion: typeof METRICS_API_VERSION;
  kind: 'NodeMetrics';
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: ResourceUsage;
}

export interface PodMetrics {
  apiVersion: typeof METRICS_API_VERSION;
  kind: 'PodMetrics';
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: { name: string; usage: ResourceUsage }[];
}

/** One node's usage report and when the server received it (ms). */
export interface UsageReport {
  usage: WireNodeUsage;
  receivedAt: number;
}

/** RFC 3339 at second precision, as metav1.Time is written. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A duration as Go prints one in these objects: "15s", "14.987s". */
export function windowText(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function usageQuantities(nanocores: number, bytes: number): ResourceUsage {
  return { cpu: `${nanocores}n`, memory: bytesQuantity(bytes) };
}

function labelled(labels: Record<string, string> | undefined): { labels?: Record<string, string> } {
  return labels && Object.keys(labels).length > 0 ? { labels } : {};
}

export function nodeMetrics(name: string, labels: Record<string, string> | undefined, report: UsageReport, nowMs: number): NodeMetrics {
  return {
    apiVersion: METRICS_API_VERSION,
    kind: 'NodeMetrics',
    metadata: { name, creationTimestamp: rfc3339Seconds(nowMs), ...labelled(labels) },
    timestamp: rfc3339Seconds(report.receivedAt),
    window: windowText(report.usage.windowMs),
    usage: usageQuantities(report.usage.cpu, report.usage.memory),
  };
}

/** The pod's entry in its node's report (namespace absent = default). */
export function podUsageOf(usage: WireNodeUsage, namespace: string, name: string): WirePodUsage | undefined {
  return usage.pods.find((p) => p.name === name && (p.namespace ?? 'default') === namespace);
}

export function podMetrics(pod: { name: string; namespace: string; labels?: Record<string, string> }, usage: WirePodUsage, report: UsageReport, nowMs: number): PodMetrics {
  return {
    apiVersion: METRICS_API_VERSION,
    kind: 'PodMetrics',
    metadata: { name: pod.name, namespace: pod.namespace, creationTimestamp: rfc3339Seconds(nowMs), ...labelled(pod.labels) },
    timestamp: rfc3339Seconds(report.receivedAt),
    window: windowText(report.usage.windowMs),
    containers: usage.containers.map(([name, cpu, memory]) => ({ name, usage: usageQuantities(cpu, memory) })),
  };
}
