/**
 * PURE helpers every controller shares: owner references, label selection, conditions that keep
 * their transition time, generated names, pod readiness, ordering. Kept here so each controller
 * reads as its rules and nothing else.
 */
import type { AnyObject } from '../../core/objects/changes.js';
import type { KindName, KindObject } from '../../core/objects/validate.js';
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { Condition, OwnerReference } from '../../core/objects/meta.js';

export type Pod = KindObject<'Pod'>;

/** An object's metadata as every kind has it. */
export type Meta = AnyObject['metadata'] & { namespace?: string };

export function metaOf(o: { metadata: unknown }): Meta {
  return o.metadata as Meta;
}

export function namespaceOf(o: { metadata: unknown }): string {
  return metaOf(o).namespace ?? DEFAULT_NAMESPACE;
}

/** "default/web": the key controllers index objects by. */
export function nsName(o: { metadata: unknown }): string {
  return `${namespaceOf(o)}/${metaOf(o).name}`;
}

/** The single owner reference a controller puts on what it creates. */
export function controllerRef(owner: { kind: string; metadata: unknown }): OwnerReference {
  const m = metaOf(owner);
  return {
    apiVersion: KINDS[owner.kind as KindName].apiVersion,
    kind: owner.kind,
    name: m.name,
    uid: m.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The owner reference marked `controller: true`, if any. */
export function controllerOf(o: { metadata: unknown }): OwnerReference | undefined {
  return metaOf(o).ownerReferences?.find((r) => r.controller === true);
}

/** Whether `owner` (same namespace) is `o`'s controller: judged by uid, as Kubernetes does. */
export function isControlledBy(o: { metadata: unknown }, owner: { kind: string; metadata: unknown }): boolean {
  const ref = controllerOf(o);
  const uid = metaOf(owner).uid;
  return ref !== undefined && uid !== undefined && ref.uid === uid && ref.kind === owner.kind && namespaceOf(o) === namespaceOf(owner);
}

/**
 * Objects by the uid of their controller, so finding what an owner controls is a lookup rather
 * than a scan of every pod (fleets have thousands).
 */
export class ControlledIndex<T extends { metadata: unknown }> {
  private readonly byUid = new Map<string, T[]>();

  constructor(objects: readonly T[]) {
    for (const o of objects) {
      const uid = controllerOf(o)?.uid;
      if (uid === undefined) continue;
      const list = this.byUid.get(uid);
      if (list) list.push(o);
      else this.byUid.set(uid, [o]);
    }
  }

  /** What `owner` controls (same kind, uid and namespace), in the snapshot's order. */
  of(owner: { kind: string; metadata: unknown }): T[] {
    const uid = metaOf(owner).uid;
    return uid === undefined ? [] : (this.byUid.get(uid) ?? []).filter((o) => isControlledBy(o, owner));
  }
}

/** matchLabels: every pair present in `labels`. */
export function matchesLabels(matchLabels: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [k, v] of Object.entries(matchLabels ?? {})) if (labels?.[k] !== v) return false;
  return true;
}

/** Milliseconds → RFC 3339 at second precision, as Kubernetes writes times. */
export function isoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function parseTime(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * `conditions` with `next` set: lastTransitionTime moves only when the status changes, and the
 * very same condition object is kept when nothing about it changed (so a status compares equal).
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: Condition, now: number): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const before = i >= 0 ? list[i] : undefined;
  const transition = before === undefined || before.status !== next.status ? isoTime(now) : (before.lastTransitionTime ?? isoTime(now));
  const merged: Condition = { ...next, lastTransitionTime: transition };
  if (before && sameCondition(before, merged)) return list;
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

function sameCondition(a: Condition, b: Condition): boolean {
  return a.status === b.status && a.reason === b.reason && a.message === b.message && a.lastTransitionTime === b.lastTransitionTime && a.lastUpdateTime === b.lastUpdateTime;
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Pods count as ready (and, without minReadySeconds, available) when their Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return conditionOf(pod.status?.conditions, 'Ready')?.status === 'True';
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isBeingDeleted(o: { metadata: unknown }): boolean {
  return metaOf(o).deletionTimestamp !== undefined;
}

/** A Namespace being deleted (deletionTimestamp, or phase Terminating): nothing may be created in it. */
export function isTerminating(ns: { metadata: unknown; status?: { phase?: string } }): boolean {
  return isBeingDeleted(ns) || ns.status?.phase === 'Terminating';
}

export function terminatingNamespaces(namespaces: readonly { metadata: { name: string }; status?: { phase?: string } }[]): Set<string> {
  return new Set(namespaces.filter(isTerminating).map((n) => n.metadata.name));
}

/**
 * Whether a controller acts for `owner`: stored (it has a uid its dependents can name), not being
 * deleted, and not in a namespace being deleted (the namespace controller empties that).
 */
export function isActiveOwner(owner: { metadata: unknown }, terminating: ReadonlySet<string>): boolean {
  return metaOf(owner).uid !== undefined && !isBeingDeleted(owner) && !terminating.has(namespaceOf(owner));
}

/** Oldest first: creationTimestamp, then name (so the order is total). Objects not yet stored sort last. */
export function oldestFirst(a: { metadata: unknown }, b: { metadata: unknown }): number {
  const ca = metaOf(a).creationTimestamp ?? '\uffff';
  const cb = metaOf(b).creationTimestamp ?? '\uffff';
  if (ca !== cb) return ca < cb ? -1 : 1;
  const na = metaOf(a).name;
  const nb = metaOf(b).name;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Generates `<prefix>-<5 random chars>` names free in their namespace (`taken` holds "ns/name" and grows). */
export class NameSource {
  constructor(
    private readonly randomSuffix: () => string,
    private readonly taken: Set<string>,
  ) {}

  next(namespace: string, prefix: string): string {
    for (let attempt = 0; attempt < 20; attempt++) {
      const suffix = this.randomSuffix();
      if (!/^[a-z0-9]{5}$/.test(suffix)) throw new GroveError(ErrorCode.Internal, `name suffix "${suffix}" is not 5 characters [a-z0-9]`);
      // Pod names derive from workload names (≤ 63); the prefix is cut so the name stays ≤ 63 too.
      const name = `${prefix.slice(0, 57).replace(/[-.]+$/, '')}-${suffix}`;
      if (!this.taken.has(`${namespace}/${name}`)) {
        this.taken.add(`${namespace}/${name}`);
        return name;
      }
    }
    throw new GroveError(ErrorCode.Internal, `could not find a free name for ${prefix}-*`);
  }
}

/** Structural equality of plain data (JSON values), key order ignored. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameData(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
