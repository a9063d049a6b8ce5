/**
 * Builders for the controllers' unit tests: objects defaulted by their kind's validator, a
 * snapshot, a deterministic name-suffix source, and `applyChanges`, a tiny in-memory stand-in
 * for the object store (uid, creationTimestamp, generation) so tests can run pass after pass.
 */
import type { AnyObject, ObjectChange, ObjectRef } from '../../src/core/objects/changes.js';
import { validate, type KindName, type KindObject } from '../../src/core/objects/validate.js';
import { emptyObjects, NAME_SUFFIX_ALPHABET, type Controller, type ControllerSnapshot, type NodeReport, } from '../../src/server/controllers/controller.js';
import type { WirePodStatus } from '../../src/core/objects/wire.js';

export const T0 = Date.parse('2025-01-01T00:00:00Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Validates (and so defaults) an object; throws with the errors when it is not valid. */
export function obj<K extends KindName>(kind: K, value: Record<string, unknown>): KindObject<K> {
  const r = validate(kind, value);
  if (!r.ok) throw new Error(`${kind} fixture invalid: ${JSON.stringify(r.errors)}`);
  return r.value;
}

export function container(name = 'app', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: `example/${name}:1`, ...extra };
}

export interface PodOpts {
  node?: string;
  /** The controller owner reference (apiVersion filled in). */
  owner?: { kind: string; name: string; uid: string };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** ms; absent = not set. */
  created?: number;
  containers?: Record<string, unknown>[];
  initContainers?: Record<string, unknown>[];
  selector?: Record<string, string>;
}

/** A Pod `uid-<name>` in default, defaulted as stored. */
export function pod(name: string, o: PodOpts = {}): KindObject<'Pod'> {
  return obj('Pod', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(o.created !== undefined ? { creationTimestamp: iso(o.created) } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: o.owner.kind === 'ReplicaSet' || o.owner.kind === 'DaemonSet' ? 'apps/v1' : 'batch/v1', ...o.owner, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      containers: o.containers ?? [container()],
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.selector ? { nodeSelector: o.selector } : {}),
    },
  });
}

export interface NodeOpts {
  labels?: Record<string, string>;
  ready?: boolean;
  /** ms; with ready false: the Ready condition's transition. Absent with ready false = never Ready. */
  since?: number;
  cordoned?: boolean;
  memory?: string;
  arch?: string;
}

export function node(name: string, o: NodeOpts = {}): KindObject<'Node'> {
  const ready = o.ready ?? true;
  const conditions = ready || o.since !== undefined ? [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(o.since ?? T0 - 3600_000) }] : [];
  return obj('Node', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-node-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: o.cordoned ? { unschedulable: true } : {},
    status: {
      conditions,
      ...(o.memory ? { allocatable: { memory: o.memory } } : {}),
      ...(o.arch ? { nodeInfo: { architecture: o.arch, operatingSystem: 'linux', kernelVersion: '6', containerRuntimeVersion: 'runc', kubeletVersion: 'grove' } } : {}),
    },
  });
}

export function deployment(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KindObject<'Deployment'> {
  const labels = { app: name };
  return obj('Deployment', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', uid: `uid-deploy-${name}`, generation: 1, creationTimestamp: iso(T0), ...meta },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container()] } }, ...spec },
  });
}

export function daemonSet(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KindObject<'DaemonSet'> {
  const labels = { app: name };
  return obj('DaemonSet', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default', uid: `uid-ds-${name}`, generation: 1, creationTimestamp: iso(T0), ...meta },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container()] } }, ...spec },
  });
}

export function job(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KindObject<'Job'> {
  return obj('Job', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-job-${name}`, generation: 1, creationTimestamp: iso(T0), ...meta },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [container()] } }, ...spec },
  });
}

export function cronJob(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KindObject<'CronJob'> {
  return obj('CronJob', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default', uid: `uid-cj-${name}`, generation: 1, creationTimestamp: iso(T0), ...meta },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [container()] } } } }, ...spec },
  });
}

/** Suffixes bbbbb, bbbbc, … in order: tests can name the pods they expect. */
export function suffixes(): () => string {
  let n = 0;
  return () => {
    let x = n++;
    let s = '';
    for (let i = 0; i < 5; i++) {
      s = NAME_SUFFIX_ALPHABET[x % NAME_SUFFIX_ALPHABET.length] + s;
      x = Math.floor(x / NAME_SUFFIX_ALPHABET.length);
    }
    return s;
  };
}

export type MutableObjects = { -readonly [K in KindName]: KindObject<K>[] };

export interface World {
  objects: MutableObjects;
  reports: Map<string, NodeReport>;
  now: number;
  randomSuffix: () => string;
  uidSeq: number;
}

export function world(objects: AnyObject[] = [], now = T0): World {
  const w: World = { objects: emptyObjects() as MutableObjects, reports: new Map(), now, randomSuffix: suffixes(), uidSeq: 0 };
  for (const o of objects) (w.objects[o.kind] as AnyObject[]).push(o);
  return w;
}

export function snapshot(w: World): ControllerSnapshot {
  return { objects: w.objects, reports: w.reports, now: w.now, randomSuffix: w.randomSuffix };
}

function sameRef(o: AnyObject, ref: ObjectRef): boolean {
  return o.kind === ref.kind && o.metadata.name === ref.name && ((o.metadata as { namespace?: string }).namespace ?? undefined) === ref.namespace;
}

/** What the object store would do with `changes` (without its checks): new World objects. */
export function applyChanges(w: World, changes: readonly ObjectChange[]): void {
  const objects = w.objects as unknown as Record<KindName, AnyObject[]>;
  for (const c of changes) {
    if (c.op === 'delete') {
      objects[c.ref.kind] = objects[c.ref.kind].filter((o) => !sameRef(o, c.ref));
      continue;
    }
    const ref = c.op === 'put' ? { kind: c.object.kind, namespace: (c.object.metadata as { namespace?: string }).namespace, name: c.object.metadata.name } : c.ref;
    const list = objects[ref.kind as KindName];
    const i = list.findIndex((o) => sameRef(o, ref as ObjectRef));
    const before = i >= 0 ? list[i] : undefined;
    if (c.op === 'status') {
      if (!before) throw new Error(`status of missing ${ref.kind} ${ref.name}`);
      list[i] = { ...before, status: c.status } as AnyObject;
      continue;
    }
    const m = { ...c.object.metadata } as Record<string, unknown>;
    m.uid = (before?.metadata.uid as string | undefined) ?? (m.uid as string | undefined) ?? `uid-${++w.uidSeq}`;
    m.creationTimestamp = before?.metadata.creationTimestamp ?? m.creationTimestamp ?? iso(w.now);
    const specChanged = before !== undefined && JSON.stringify((before as { spec?: unknown }).spec) !== JSON.stringify((c.object as { spec?: unknown }).spec);
    m.generation = ((before?.metadata.generation as number | undefined) ?? 1) + (specChanged ? 1 : 0);
    const next = { ...c.object, metadata: m, ...(before && 'status' in before && before.status !== undefined ? { status: before.status } : {}) } as AnyObject;
    if (before) list[i] = next;
    else list.push(next);
  }
}

/** Runs `controllers` once each, applying the changes of each before the next; returns all changes. */
export function pass(w: World, ...controllers: Controller[]): ObjectChange[] {
  const all: ObjectChange[] = [];
  for (const c of controllers) {
    const { changes } = c.reconcile(snapshot(w));
    applyChanges(w, changes);
    all.push(...changes);
  }
  return all;
}

/**
 * Runs `controllers` on ONE snapshot and applies all their changes together in list order, as
 * the object server's loop does; throws when a delete precedes a put or status of the same
 * object (the store would refuse the whole commit).
 */
export function passShared(w: World, ...controllers: Controller[]): ObjectChange[] {
  const snap = snapshot(w);
  const all = controllers.flatMap((c) => c.reconcile(snap).changes);
  const deleted = new Set<string>();
  const key = (r: ObjectRef) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;
  for (const c of all) {
    const ref = c.op === 'put' ? { kind: c.object.kind, namespace: (c.object.metadata as { namespace?: string }).namespace, name: c.object.metadata.name } : c.ref;
    if (c.op === 'delete') deleted.add(key(ref as ObjectRef));
    else if (deleted.has(key(ref as ObjectRef))) throw new Error(`${c.op} of ${key(ref as ObjectRef)} after its delete in one commit`);
  }
  applyChanges(w, all.filter((c) => c.op !== 'status' || objectExists(w, c.ref) || all.some((p) => p.op === 'put' && p.object.kind === c.ref.kind && p.object.metadata.name === c.ref.name)));
  return all;
}

function objectExists(w: World, ref: ObjectRef): boolean {
  return (w.objects[ref.kind] as AnyObject[]).some((o) => sameRef(o, ref));
}

export function pods(w: World): KindObject<'Pod'>[] {
  return [...w.objects.Pod].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/** Marks pods ready (Ready=True, Running) as a node report would. */
export function markReady(w: World, filter: (p: KindObject<'Pod'>) => boolean = () => true): void {
  const list = w.objects.Pod as KindObject<'Pod'>[];
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (!filter(p) || p.spec.nodeName === undefined) continue;
    list[i] = { ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  }
}

export function report(nodeName: string, podStatuses: WirePodStatus[], extra: Partial<NodeReport> = {}): NodeReport {
  return {
    status: {
      schema: 1,
      node: nodeName,
      seq: 1,
      observedRevision: 1,
      heartbeat: false,
      facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4e9, memoryAvailableBytes: 2e9, diskFreeBytes: 1e10, kernel: '6.1', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '0.2.0', labels: {} },
      pods: podStatuses,
      sentAt: iso(T0),
    } as NodeReport['status'],
    receivedAt: T0,
    online: true,
    ...extra,
  };
}
