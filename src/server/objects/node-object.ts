/**
 * PURE: a joined board as a Kubernetes Node object (docs/architecture.md, "Nodes").
 *
 * Labels come from three sources (src/server/node-labels.ts decides who may set what): labels
 * set through the API (at join or `grove node label`) win over the well-known labels the server
 * derives (kubernetes.io/hostname|os|arch), which win over the node.grove.io/* labels the node
 * reports about itself. All three end up in metadata.labels, where selectors and kubectl see
 * them; the keys set through the API are listed in the `grove.io/api-labels` annotation so that a
 * self-reported label the node drops later disappears, while an API label stays.
 *
 * Cordon is spec.unschedulable. Status: the Ready condition and the pressure conditions
 * (node-pressure.ts) (lastHeartbeatTime stored on transitions only: flash; the API serves the last report's time, withLastHeartbeat), nodeInfo,
 * capacity/allocatable and addresses, from the node's facts; values that move all the time (free
 * memory, free disk) stay out of the object.
 * The node's credential hash is never in the object (GroveKeys.nodeCredential).
 */
import type { Node, NodeStatus } from '../../core/objects/cluster.js';
import type { Condition } from '../../core/objects/meta.js';
import type { WireNodeFacts } from '../../core/objects/wire.js';
import { effectiveNodeLabels, joinLabels } from '../node-labels.js';
import { normArch } from '../scheduling/node-view.js';
import { PRESSURE_TYPES, pressureBands, pressureConditions } from './node-pressure.js';
import { TARGET_APPLIED, targetAppliedCondition } from './node-target-condition.js';

/** Comma-separated keys of the labels set through the API (sorted). */
export const API_LABELS_ANNOTATION = 'grove.io/api-labels';

type Labels = Record<string, string>;

/** The labels set through the API (the keys the annotation names, with their values). */
export function apiLabelsOf(node: Node): Labels {
  const keys = node.metadata.annotations?.[API_LABELS_ANNOTATION];
  const labels = node.metadata.labels ?? {};
  const out: Labels = {};
  if (!keys) return out;
  for (const k of keys.split(',')) if (k !== '' && labels[k] !== undefined) out[k] = labels[k]!;
  return out;
}

/** The facts a Node's labels derive from: the last report's, or none yet. */
export type LabelFacts = Pick<WireNodeFacts, 'os' | 'arch' | 'labels'> | undefined;

/** `node` with labels rebuilt from `api` labels and `facts`, and the annotation naming the API keys. */
function withLabels(node: Node, api: Labels, facts: LabelFacts): Node {
  const annotations: Labels = { ...node.metadata.annotations };
  const keys = Object.keys(api).sort();
  if (keys.length) annotations[API_LABELS_ANNOTATION] = keys.join(',');
  else delete annotations[API_LABELS_ANNOTATION];
  const { annotations: _a, labels: _l, ...meta } = node.metadata;
  return {
    ...node,
    metadata: { ...meta, labels: effectiveNodeLabels(node.metadata.name, api, facts), ...(Object.keys(annotations).length ? { annotations } : {}) },
  };
}

/** The facts already reflected in a Node's labels (os, arch, self-reported), so an API edit keeps them. */
function factsIn(node: Node): LabelFacts {
  const labels = node.metadata.labels ?? {};
  const api = apiLabelsOf(node);
  const self: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (k.startsWith('node.grove.io/') && api[k] === undefined) self[k] = v;
  return { os: labels['kubernetes.io/os'] ?? '', arch: labels['kubernetes.io/arch'] ?? '', labels: self };
}

/** A Node for a board that joins for the first time, with the labels its join asked for. */
export function joinedNode(name: string, requested: Readonly<Labels>): Node {
  return withLabels({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} }, joinLabels(requested), undefined);
}

/** `grove node label|cordon|uncordon`: label values (null removes) and spec.unschedulable. */
export function patchedNode(node: Node, changes: Readonly<Record<string, string | null>>, unschedulable?: boolean): Node {
  const api = apiLabelsOf(node);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete api[k];
    else api[k] = v;
  }
  const out = withLabels(node, api, factsIn(node));
  const cordon = unschedulable ?? node.spec?.unschedulable ?? false;
  const { unschedulable: _u, ...spec } = node.spec ?? {};
  return { ...out, spec: cordon ? { ...spec, unschedulable: true } : spec };
}

/**
 * A Node written whole through the Kubernetes API (`kubectl label node`, edit, patch, apply):
 * every label it adds, changes or removes against `before` is a change set through the API, as
 * `grove node label` makes it, so the next report of the node keeps it (the annotation naming the
 * API keys is the stored one, whatever the client sent).
 */
export function nodeEditedThroughApi(before: Node, edited: Node): Node {
  const old = before.metadata.labels ?? {};
  const now = edited.metadata.labels ?? {};
  const changes: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(now)) if (old[k] !== v) changes[k] = v;
  for (const k of Object.keys(old)) if (!(k in now)) changes[k] = null;
  const annotations: Labels = { ...edited.metadata.annotations };
  const keys = before.metadata.annotations?.[API_LABELS_ANNOTATION];
  if (keys !== undefined) annotations[API_LABELS_ANNOTATION] = keys;
  else delete annotations[API_LABELS_ANNOTATION];
  const base: Node = { ...edited, metadata: { ...edited.metadata, labels: old, annotations } };
  return patchedNode(base, changes, edited.spec?.unschedulable === true);
}

/** `node` with the labels its latest facts give (the same object when nothing changes). */
export function nodeWithFacts(node: Node, facts: LabelFacts): Node {
  return withLabels(node, apiLabelsOf(node), facts);
}

export interface NodeReadiness {
  ready: boolean;
  /** When the node last reported (a heartbeat), ms. */
  lastReportAt?: number;
  /** When readiness last flipped, ms. */
  since: number;
  /** The revision of the target last published to the node and the one its last status says it applied. */
  revisions?: { target: number; applied: number };
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The Ready condition: kept as it is (times included) while readiness is unchanged, so a
 * heartbeat never rewrites the object; a flip writes new times.
 */
export function readyCondition(previous: readonly Condition[] | undefined, readiness: NodeReadiness): Condition {
  const old = previous?.find((c) => c.type === 'Ready');
  const status = readiness.ready ? 'True' : 'False';
  if (old && old.status === status) return old;
  const at = rfc3339(readiness.since);
  return readiness.ready
    ? { type: 'Ready', status, reason: 'KubeletReady', message: 'grove agent is posting ready status', lastHeartbeatTime: rfc3339(readiness.lastReportAt ?? readiness.since), lastTransitionTime: at }
    : { type: 'Ready', status, reason: 'NodeStatusUnknown', message: 'grove agent stopped posting node status', lastHeartbeatTime: rfc3339(readiness.lastReportAt ?? readiness.since), lastTransitionTime: at };
}

/**
 * `node` as the API serves it: the lastHeartbeatTime of its conditions (Ready, the pressure
 * conditions and Grove's TargetApplied) is the node's last report (kept in memory), not the one
 * stored at the last transition, which heartbeats never rewrite (flash). Kubernetes' meaning of
 * the field, with no write per heartbeat; a condition stored without one (TargetApplied) gets it
 * too, or `kubectl describe node` shows it as year 1. The same object when there is no later report.
 */
export function withLastHeartbeat(node: Node, lastReportAt: number | undefined): Node {
  const conditions = node.status?.conditions;
  if (lastReportAt === undefined || !conditions?.length) return node;
  const beat = rfc3339(lastReportAt);
  const stale = (c: Condition) => c.lastHeartbeatTime === undefined || Date.parse(c.lastHeartbeatTime) < Date.parse(beat);
  if (!conditions.some(stale)) return node;
  return { ...node, status: { ...node.status, conditions: conditions.map((c) => (stale(c) ? { ...c, lastHeartbeatTime: beat } : c)) } };
}

/** What Kubernetes reports as a node's capacity, from the facts that do not move. */
function capacityOf(facts: WireNodeFacts): Labels {
  return {
    cpu: String(facts.cpus),
    memory: `${Math.floor(facts.memoryBytes / 1024)}Ki`,
    pods: '110',
    ...(facts.diskTotalBytes ? { 'ephemeral-storage': `${Math.floor(facts.diskTotalBytes / 1024)}Ki` } : {}),
  };
}

/** The node's addresses as it reported them (older agents report none). */
function addressesOf(facts: WireNodeFacts): NodeStatus['addresses'] {
  return facts.addresses?.length ? facts.addresses : undefined;
}

/**
 * What of `facts` the Node status shows (nodeInfo, capacity, addresses, the pressure bands), as
 * one string: a report whose key is unchanged cannot change the Node's status, so the status
 * cache hands it on only when the key moves (free memory and disk move all the time; their
 * bands rarely).
 */
export function nodeStatusFactsKey(facts: WireNodeFacts): string {
  const { memoryAvailableBytes: _m, diskFreeBytes: _d, processes: _p, labels: _l, ...steady } = facts;
  return `${pressureBands(facts)} ${JSON.stringify(steady)}`;
}

/** The Node status for `readiness` and the node's last `facts` (none yet: readiness only). */
export function nodeStatus(previous: NodeStatus | undefined, readiness: NodeReadiness, facts: WireNodeFacts | undefined): NodeStatus {
  const known = new Set(['Ready', TARGET_APPLIED, ...PRESSURE_TYPES]);
  const others = (previous?.conditions ?? []).filter((c) => !known.has(c.type));
  const applied = targetAppliedCondition(previous?.conditions, readiness);
  const pressure = pressureConditions(previous?.conditions, facts, readiness.ready, rfc3339(readiness.lastReportAt ?? readiness.since));
  const status: NodeStatus = { ...previous, conditions: [readyCondition(previous?.conditions, readiness), ...pressure, ...(applied ? [applied] : []), ...others] };
  if (!facts) return status;
  const capacity = capacityOf(facts);
  const addresses = addressesOf(facts);
  return {
    ...status,
    nodeInfo: {
      architecture: normArch(facts.arch),
      operatingSystem: facts.os,
      kernelVersion: facts.kernel,
      containerRuntimeVersion: facts.ociRuntime,
      kubeletVersion: facts.agentVersion,
      ...(facts.osImage ? { osImage: facts.osImage } : {}),
    },
    capacity,
    allocatable: capacity,
    ...(addresses ? { addresses } : {}),
  };
}
