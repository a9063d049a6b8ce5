/**
 * The ONE place that writes Kubernetes objects: a list of ObjectChanges (src/core/objects/changes.ts)
 * becomes ONE store commit. It fills what the server owns (uid, creationTimestamp, generation),
 * checks and defaults every object (admit.ts), refuses a stale resourceVersion, and writes nothing
 * for a change that changes nothing (canonical CBOR bytes compared, so key order never counts and
 * a sealed Secret is compared in clear). `metadata.resourceVersion` is the entry's store revision,
 * set on every object read, never stored.
 *
 * Namespaces: a namespaced object is only created in an existing namespace that is not being
 * deleted; deleting a Namespace first marks it (deletionTimestamp, phase Terminating) and removes
 * it once nothing is left in it (the garbage collector empties it, then deletes it again).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { DEFAULT_NAMESPACE, kindPrefix, namespacePrefix, objectKey, parseObjectKey } from '../../core/keys.js';
import { describeRef, type AnyObject, type ObjectChange, type ObjectRef } from '../../core/objects/changes.js';
import { ALL_KINDS, KINDS, type KindInfo, type KindName, type KindObject } from '../../core/objects/kinds.js';
import { createWireEncoder, encodeCanonical } from '../../core/wire-codec.js';
import type { Store, StoreChange, StoreOp } from '../../store/store.js';
import { Mutex } from '../mutex.js';
import { admitObject, invalidObject, type Cause } from './admit.js';
import { matches, type Selector } from './label-selector.js';
import { gracefulPodDelete, type PodDeletionView } from './pod-graceful-delete.js';

/** etcd's default request limit: an object larger than this is a mistake on an edge server. */
export const MAX_OBJECT_BYTES = 1536 * 1024;
/** Changes in one commit (one apply, one controller pass): bounds the memory of one commit. */
export const MAX_CHANGES_PER_COMMIT = 10_000;

/** What one change did: `marked` = a Namespace now Terminating; `absent` = nothing to change. */
export type ChangeOutcome = 'created' | 'configured' | 'unchanged' | 'deleted' | 'marked' | 'absent';

export interface ChangeResult {
  ref: ObjectRef;
  outcome: ChangeOutcome;
  /** The object as stored after the commit (absent after a delete). */
  object?: AnyObject;
}

export interface CommitResult {
  /** The store revision after the commit (the current one when nothing was written). */
  revision: number;
  results: ChangeResult[];
}

export interface ObjectList<K extends KindName = KindName> {
  /** The store revision the list was read at. */
  revision: number;
  items: KindObject<K>[];
}

/** One object written by a commit, before and after (Secrets in clear, unlike the store's own watch). */
export interface ObjectWrite {
  key: string;
  kind: KindName;
  namespace?: string;
  /** After the change (resourceVersion = the commit's revision); absent: deleted. */
  object?: AnyObject;
  /** Before the change (its own resourceVersion); absent: created. */
  previous?: AnyObject;
}

/**
 * What watchChanges reports for one store commit touching objects. `unknown`: keys written around
 * the ObjectStore (a restore), whose before and after it cannot tell.
 */
export interface ObjectCommit {
  revision: number;
  writes: ObjectWrite[];
  unknown: string[];
}

/**
 * What one commit's hook keeps for its kind (service-allocation.ts: the addresses and ports
 * taken). `put` returns the object to store (or throws a GroveError refusing the change);
 * `released` is told of an object of its kind the commit removes.
 */
export interface WriteSession<O> {
  put(next: O, existing: O | undefined): O;
  released(existing: O): void;
}

/**
 * Work a kind needs inside the write itself, atomic with it (under the store's lock): Service
 * allocation. `begin` is called once per commit that writes the kind, with every stored object
 * of the kind as the commit starts.
 */
export interface WriteHook<K extends KindName = KindName> {
  kind: K;
  begin(stored: readonly KindObject<K>[]): WriteSession<KindObject<K>>;
}

export interface ObjectStoreOptions {
  store: Store;
  /** Per-kind work inside a commit (Service allocation); none by default. */
  hooks?: readonly WriteHook[];
  clock: Clock;
  /** Fresh object uids (random UUIDs by default; tests inject a counter). */
  newUid?: () => string;
  maxObjectBytes?: number;
}

/** Kubernetes timestamps: RFC 3339 in UTC, whole seconds. */
export function objectTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

type Meta = Record<string, unknown> & { name: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number; deletionTimestamp?: string };
type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Meta; status?: unknown };

/** Fields a put takes from the caller's metadata; the rest of the metadata is the server's. */
const USER_META = ['labels', 'annotations', 'ownerReferences'] as const;
/** Kubernetes labels every Namespace with its own name (selectors by namespace name use it). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function kindInfo(kind: string): KindInfo {
  const info = (KINDS as Record<string, KindInfo | undefined>)[kind];
  if (!info) throw new GroveError(ErrorCode.InvalidArgument, `unknown kind ${JSON.stringify(kind)}`);
  return info;
}

export function keyOf(ref: ObjectRef): string {
  return objectKey(kindInfo(ref.kind), ref.namespace, ref.name);
}

/** Everything but apiVersion, kind, metadata and status: what `generation` tracks. */
function specPart(o: Obj): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/**
 * Whether a stored value is an object of `info`'s kind. A 0.1 store is migrated before the
 * server opens it (src/server/migrate); anything else under an object key (a 0.1 record put
 * back by hand) is no object and reads as absent, so the Kubernetes paths never answer it
 * half-shaped.
 */
function isObjectOf(info: KindInfo, value: unknown): value is Obj {
  const o = value as Partial<Obj> | null;
  return typeof o === 'object' && o !== null && o.apiVersion === info.apiVersion && o.kind === info.kind && typeof o.metadata?.name === 'string';
}


function withVersion<T extends Obj>(o: T, revision: number): T {
  return { ...o, metadata: { ...o.metadata, resourceVersion: String(revision) } };
}

/** A key's state during one commit: what the store held and what the changes so far made of it. */
interface Slot {
  ref: ObjectRef;
  /** As stored before the commit (without resourceVersion) and its revision. */
  before?: Obj;
  revision?: number;
  now?: Obj;
}

export class ObjectStore {
  private readonly mutex = new Mutex();
  /** One encoder for every comparison: building a cbor-x Encoder costs more than encoding an object. */
  private readonly encoder = createWireEncoder();
  private readonly newUid: () => string;
  private readonly maxBytes: number;
  /** The slots of the commit being written, for watchChanges (the store calls watchers inside commit). */
  private committing: Map<string, Slot> | undefined;

  constructor(private readonly opts: ObjectStoreOptions) {
    this.newUid = opts.newUid ?? randomUUID;
    this.maxBytes = opts.maxObjectBytes ?? MAX_OBJECT_BYTES;
  }

  get store(): Store {
    return this.opts.store;
  }

  /** The clock the store stamps objects with (field managers' times use it too). */
  get clock(): Clock {
    return this.opts.clock;
  }

  async get<K extends KindName>(ref: ObjectRef & { kind: K }): Promise<KindObject<K> | undefined> {
    const entry = await this.opts.store.get<Obj>(keyOf(ref));
    return entry && isObjectOf(kindInfo(ref.kind), entry.value) ? (withVersion(entry.value, entry.revision) as unknown as KindObject<K>) : undefined;
  }

  /** Objects of `kind` (in `namespace`, or all namespaces), optionally by label selector, in key order. */
  async list<K extends KindName>(kind: K, opts: { namespace?: string; selector?: Selector } = {}): Promise<ObjectList<K>> {
    const info = kindInfo(kind);
    const revision = this.opts.store.revision();
    const prefix = opts.namespace !== undefined && info.namespaced ? namespacePrefix(info, opts.namespace) : kindPrefix(info);
    const entries = await this.opts.store.list<Obj>(prefix);
    const items: KindObject<K>[] = [];
    for (const e of entries) {
      if (!isObjectOf(info, e.value) || !parseObjectKey(e.key, ALL_KINDS)) continue;
      if (opts.selector && !matches(opts.selector, e.value.metadata.labels as Record<string, string> | undefined)) continue;
      items.push(withVersion(e.value, e.revision) as unknown as KindObject<K>);
    }
    return { revision: entries.reduce((max, e) => Math.max(max, e.revision), revision), items };
  }

  /** Calls `listener` after every commit that touched an object (not Grove's internal records). */
  watch(listener: (change: StoreChange) => void): () => void {
    const plurals = new Set(ALL_KINDS.map((k) => kindPrefix(k)));
    return this.opts.store.watch((change) => {
      if (change.ops.some((op) => plurals.has(op.key.slice(0, op.key.indexOf('/') + 1)))) listener(change);
    });
  }

  /**
   * Calls `listener` after every store commit that touched an object, with every object written
   * as it was before and after (what a watch sends: a deleted object's last state, and whether an
   * object left a selector).
   */
  watchChanges(listener: (commit: ObjectCommit) => void): () => void {
    return this.opts.store.watch((change) => {
      const writes: ObjectWrite[] = [];
      const unknown: string[] = [];
      for (const op of change.ops) {
        const parsed = parseObjectKey(op.key, ALL_KINDS);
        if (!parsed) continue;
        const slot = this.committing?.get(op.key);
        if (!slot) {
          unknown.push(op.key);
          continue;
        }
        const write: ObjectWrite = { key: op.key, kind: slot.ref.kind, ...(parsed.namespace !== undefined ? { namespace: parsed.namespace } : {}) };
        if (slot.now) write.object = withVersion(slot.now, change.revision) as unknown as AnyObject;
        if (slot.before) write.previous = withVersion(slot.before, slot.revision ?? 0) as unknown as AnyObject;
        writes.push(write);
      }
      if (writes.length > 0 || unknown.length > 0) listener({ revision: change.revision, writes, unknown });
    });
  }

  /**
   * Applies `changes` in order, as ONE store commit (or none when nothing changes). Throws
   * (writing nothing) when any change is invalid: InvalidArgument (details.causes), Conflict
   * (stale resourceVersion or uid), NotFound (the namespace), PermissionDenied (a namespace
   * being deleted, or `default`), SizeLimit. `dryRun` decides everything and writes nothing.
   *
   * `records`: Grove's internal records (GroveKeys, never object keys) written in the same
   * commit, e.g. a joining node's credential with its Node object.
   */
  commit(changes: readonly ObjectChange[], opts: { dryRun?: boolean; records?: readonly StoreOp[] } = {}): Promise<CommitResult> {
    if (changes.length > MAX_CHANGES_PER_COMMIT) {
      return Promise.reject(new GroveError(ErrorCode.SizeLimit, `${changes.length} object changes in one commit: at most ${MAX_CHANGES_PER_COMMIT}`));
    }
    const objectKey = (opts.records ?? []).find((op) => parseObjectKey(op.key, ALL_KINDS) !== undefined);
    if (objectKey) return Promise.reject(new GroveError(ErrorCode.Internal, `${objectKey.key} is an object key: objects are written as changes, not records`));
    return this.mutex.run(() => this.commitLocked(changes, opts.dryRun === true, opts.records ?? []));
  }

  /** The commit's session of `kind`'s hook, begun on first use with the stored objects; undefined without a hook. */
  private async session(sessions: Map<KindName, WriteSession<Obj>>, kind: KindName): Promise<WriteSession<Obj> | undefined> {
    const hook = this.opts.hooks?.find((h) => h.kind === kind);
    if (!hook) return undefined;
    let session = sessions.get(kind);
    if (!session) {
      const info = kindInfo(kind);
      const stored = (await this.opts.store.list<Obj>(kindPrefix(info))).map((e) => e.value).filter((v) => isObjectOf(info, v));
      session = hook.begin(stored as never) as unknown as WriteSession<Obj>;
      sessions.set(kind, session);
    }
    return session;
  }

  private async commitLocked(changes: readonly ObjectChange[], dryRun: boolean, records: readonly StoreOp[]): Promise<CommitResult> {
    const slots = new Map<string, Slot>();
    const sessions = new Map<KindName, WriteSession<Obj>>();
    const results: { ref: ObjectRef; outcome: ChangeOutcome; key: string }[] = [];
    for (const change of changes) {
      const ref = change.op === 'put' ? this.refOfPut(change.object as unknown as Obj) : change.ref;
      const key = keyOf(ref);
      const slot = await this.slot(slots, key, ref);
      let outcome: ChangeOutcome;
      const session = change.op === 'status' ? undefined : await this.session(sessions, ref.kind);
      const before = slot.now;
      if (change.op === 'put') outcome = await this.put(slots, slot, change.object as unknown as Obj, change.expect, session);
      else if (change.op === 'status') outcome = this.status(slot, change.status);
      else outcome = await this.delete(slots, slot, change);
      if (session && before && change.op === 'delete' && slot.now === undefined) session.released(before);
      results.push({ ref, outcome, key });
    }
    const ops: StoreOp[] = [];
    for (const [key, slot] of slots) {
      if (slot.now === undefined) {
        if (slot.before !== undefined) ops.push({ type: 'delete', key });
      } else if (slot.before === undefined || !this.same(slot.before, slot.now)) {
        ops.push({ type: 'put', key, value: slot.now });
      }
    }
    ops.push(...records);
    let revision: number;
    if (dryRun || ops.length === 0) revision = this.opts.store.revision();
    else {
      this.committing = slots;
      try {
        revision = await this.opts.store.commit(ops);
      } finally {
        this.committing = undefined;
      }
    }
    const written = new Set(ops.map((op) => op.key));
    return {
      revision,
      results: results.map(({ ref, outcome, key }) => {
        const slot = slots.get(key)!;
        const object = slot.now && withVersion(slot.now, written.has(key) ? revision : (slot.revision ?? revision));
        return { ref, outcome, ...(object ? { object: object as unknown as AnyObject } : {}) };
      }),
    };
  }

  private refOfPut(o: Obj): ObjectRef {
    const info = kindInfo(o?.kind);
    const name = o.metadata?.name;
    const namespace = o.metadata?.namespace;
    if (typeof name !== 'string') throw new GroveError(ErrorCode.InvalidArgument, `${info.kind}: metadata.name is required`);
    if (info.namespaced && typeof namespace !== 'string') throw new GroveError(ErrorCode.InvalidArgument, `${info.kind} ${name}: metadata.namespace is required`);
    return { kind: info.kind, ...(info.namespaced ? { namespace: namespace as string } : {}), name };
  }

  private async slot(slots: Map<string, Slot>, key: string, ref: ObjectRef): Promise<Slot> {
    let slot = slots.get(key);
    if (!slot) {
      const entry = await this.opts.store.get<Obj>(key);
      slot = entry && isObjectOf(kindInfo(ref.kind), entry.value) ? { ref, before: entry.value, revision: entry.revision, now: entry.value } : { ref };
      slots.set(key, slot);
    }
    return slot;
  }

  private async put(slots: Map<string, Slot>, slot: Slot, input: Obj, expect?: 'absent' | 'present', session?: WriteSession<Obj>): Promise<ChangeOutcome> {
    const info = kindInfo(slot.ref.kind);
    const existing = slot.now;
    if (expect === 'absent' && existing !== undefined) throw alreadyExists(slot.ref);
    if (expect === 'present' && existing === undefined) throw notFound(slot.ref);
    const checked = admitObject(info.kind, input) as unknown as Obj;
    const given = checked.metadata;
    const where = describeRef(slot.ref);
    if (given.resourceVersion !== undefined && (existing === undefined || String(slot.revision) !== given.resourceVersion)) {
      throw conflict(slot.ref, existing === undefined ? `${where} was deleted since resourceVersion ${given.resourceVersion}` : 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (existing !== undefined && given.uid !== undefined && given.uid !== existing.metadata.uid) {
      throw conflict(slot.ref, `${where} has uid ${existing.metadata.uid}, not ${given.uid}: it was deleted and created again`);
    }
    if (existing === undefined && info.namespaced) await this.checkNamespaceOpen(slots, slot.ref);
    // Allocation (a Service's address and ports) happens last, once nothing else refuses the change.
    const admitted = session ? session.put(checked, existing) : checked;
    if (existing !== undefined && (info.kind === 'ConfigMap' || info.kind === 'Secret')) this.checkImmutable(slot.ref, existing, admitted);
    const meta: Meta = { name: given.name };
    if (given.namespace !== undefined) meta.namespace = given.namespace;
    meta.uid = existing?.metadata.uid ?? given.uid ?? this.newUid();
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? objectTime(this.opts.clock.now());
    const specChanged = existing !== undefined && !this.same(specPart(existing), specPart(admitted));
    meta.generation = existing === undefined ? 1 : (existing.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    if (existing?.metadata.deletionTimestamp !== undefined) meta.deletionTimestamp = existing.metadata.deletionTimestamp;
    if (existing?.metadata.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = existing.metadata.deletionGracePeriodSeconds;
    // Finalizers are the server's (set by a DELETE); field managers are kept unless the writer
    // gives them (an empty list clears them, as in Kubernetes).
    if (existing?.metadata.finalizers !== undefined) meta.finalizers = existing.metadata.finalizers;
    for (const field of USER_META) if (given[field] !== undefined) meta[field] = given[field];
    const managed = (given.managedFields ?? existing?.metadata.managedFields) as unknown[] | undefined;
    if (managed !== undefined && managed.length > 0) meta.managedFields = managed;
    if (info.kind === 'Namespace') meta.labels = { ...(meta.labels as Record<string, string> | undefined), [NAMESPACE_NAME_LABEL]: given.name };
    const next: Obj = { apiVersion: admitted.apiVersion, kind: admitted.kind, metadata: meta, ...specPart(admitted) };
    if (existing?.status !== undefined) next.status = existing.status;
    else if (info.kind === 'Namespace') next.status = { phase: 'Active' };
    else if (info.kind === 'Pod') next.status = this.newPodStatus(admitted);
    this.checkSize(slot.ref, next);
    slot.now = next;
    if (existing === undefined) return 'created';
    return this.same(existing, next) ? 'unchanged' : 'configured';
  }

  /**
   * A new Pod is Pending, as the API server makes it; one created already bound (spec.nodeName)
   * is scheduled, which the scheduler would otherwise say when it binds it.
   */
  private newPodStatus(pod: Obj): Record<string, unknown> {
    const bound = (pod.spec as { nodeName?: string } | undefined)?.nodeName !== undefined;
    return { phase: 'Pending', ...(bound ? { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: objectTime(this.opts.clock.now()) }] } : {}) };
  }

  private status(slot: Slot, status: unknown): ChangeOutcome {
    const existing = slot.now;
    if (existing === undefined) return 'absent';
    const info = kindInfo(slot.ref.kind);
    if (!info.hasStatus) throw new GroveError(ErrorCode.InvalidArgument, `${describeRef(slot.ref)}: ${info.kind} objects have no status`);
    const { status: _old, ...rest } = existing;
    const next = (status === undefined ? rest : admitObject(info.kind, { ...rest, status })) as Obj;
    // admitObject defaults the whole object again; only the status may differ from what is stored.
    const updated: Obj = status === undefined ? next : { ...existing, status: next.status };
    this.checkSize(slot.ref, updated);
    slot.now = updated;
    return this.same(existing, updated) ? 'unchanged' : 'configured';
  }

  private async delete(slots: Map<string, Slot>, slot: Slot, change: Extract<ObjectChange, { op: 'delete' }>): Promise<ChangeOutcome> {
    const existing = slot.now;
    if (existing === undefined) return 'absent';
    const pre = change.preconditions;
    if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw conflict(slot.ref, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(slot.revision)) {
      throw conflict(slot.ref, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${slot.revision}`);
    }
    if (slot.ref.kind === 'Pod' && change.gracePeriodSeconds !== undefined) {
      const decided = gracefulPodDelete(existing as PodDeletionView, change.gracePeriodSeconds, this.opts.clock.now());
      if (decided.action === 'unchanged') return 'unchanged';
      if (decided.action === 'mark') {
        slot.now = { ...existing, metadata: { ...existing.metadata, deletionTimestamp: objectTime(decided.deletionAt), deletionGracePeriodSeconds: decided.deletionGracePeriodSeconds } };
        return 'marked';
      }
    }
    if (slot.ref.kind !== 'Namespace') {
      const finalizers = (existing.metadata.finalizers as string[] | undefined) ?? [];
      if (change.propagation === 'Foreground') {
        if (finalizers.includes('foregroundDeletion')) return 'unchanged';
        slot.now = { ...existing, metadata: { ...existing.metadata, deletionTimestamp: existing.metadata.deletionTimestamp ?? objectTime(this.opts.clock.now()), finalizers: [...finalizers, 'foregroundDeletion'] } };
        return 'marked';
      }
      slot.now = undefined;
      return 'deleted';
    }
    if (slot.ref.name === DEFAULT_NAMESPACE) throw new GroveError(ErrorCode.PermissionDenied, `namespaces "${DEFAULT_NAMESPACE}" is forbidden: this namespace may not be deleted`, { details: { kind: 'Namespace', name: DEFAULT_NAMESPACE, reason: 'Forbidden' } });
    if (existing.metadata.deletionTimestamp === undefined) {
      slot.now = { ...existing, metadata: { ...existing.metadata, deletionTimestamp: objectTime(this.opts.clock.now()) }, status: { ...(existing.status as object | undefined), phase: 'Terminating' } };
      return 'marked';
    }
    if (await this.namespaceHasObjects(slots, slot.ref.name)) return 'unchanged';
    slot.now = undefined;
    return 'deleted';
  }

  /**
   * As Kubernetes: an `immutable` ConfigMap or Secret may be applied again unchanged, never
   * changed (delete it and create it again); a Secret's type never changes.
   */
  private checkImmutable(ref: ObjectRef, existing: Obj, next: Obj): void {
    const causes: Cause[] = [];
    if (existing.immutable === true && !this.same(specPart(existing), specPart(next))) causes.push({ field: 'data', message: 'field is immutable when `immutable` is set: delete the object and create it again to change it' });
    if (ref.kind === 'Secret' && existing.type !== next.type) causes.push({ field: 'type', message: 'field is immutable' });
    if (causes.length) throw invalidObject(ref.kind, ref.name, causes);
  }

  private async checkNamespaceOpen(slots: Map<string, Slot>, ref: ObjectRef): Promise<void> {
    const nsRef: ObjectRef = { kind: 'Namespace', name: ref.namespace! };
    const ns = (await this.slot(slots, keyOf(nsRef), nsRef)).now;
    if (ns === undefined) {
      throw new GroveError(ErrorCode.NotFound, `namespaces ${JSON.stringify(ref.namespace)} not found: create the Namespace first (or in the same apply)`, { details: { kind: 'Namespace', name: ref.namespace } });
    }
    if (ns.metadata.deletionTimestamp !== undefined) {
      throw new GroveError(ErrorCode.PermissionDenied, `${describeRef(ref)} cannot be created: namespace ${ref.namespace} is being terminated`, { details: { kind: ref.kind, name: ref.name, reason: 'Forbidden' } });
    }
  }

  /** Whether anything namespaced is left in `namespace`, counting this commit's changes so far. */
  private async namespaceHasObjects(slots: Map<string, Slot>, namespace: string): Promise<boolean> {
    for (const info of ALL_KINDS) {
      if (!info.namespaced) continue;
      const prefix = namespacePrefix(info, namespace);
      for (const [key, slot] of slots) if (key.startsWith(prefix) && slot.now !== undefined) return true;
      for (const e of await this.opts.store.list(prefix)) if (!slots.has(e.key)) return true;
    }
    return false;
  }

  /** Equal canonical CBOR: key order never counts. */
  private same(a: unknown, b: unknown): boolean {
    return encodeCanonical(a, this.encoder).equals(encodeCanonical(b, this.encoder));
  }

  private checkSize(ref: ObjectRef, o: Obj): void {
    const size = encodeCanonical(o, this.encoder).length;
    if (size > this.maxBytes) throw new GroveError(ErrorCode.SizeLimit, `${describeRef(ref)} is ${size} bytes encoded: at most ${this.maxBytes}`, { details: { kind: ref.kind, name: ref.name } });
  }
}

/** `deployments.apps "web" already exists`, as the API server words it. */
function alreadyExists(ref: ObjectRef): GroveError {
  const info = kindInfo(ref.kind);
  return new GroveError(ErrorCode.Conflict, `${info.plural}${info.group ? `.${info.group}` : ''} ${JSON.stringify(ref.name)} already exists`, { details: { kind: ref.kind, name: ref.name, reason: 'AlreadyExists' } });
}

function notFound(ref: ObjectRef): GroveError {
  const info = kindInfo(ref.kind);
  return new GroveError(ErrorCode.NotFound, `${info.plural}${info.group ? `.${info.group}` : ''} ${JSON.stringify(ref.name)} not found`, { details: { kind: ref.kind, name: ref.name } });
}

function conflict(ref: ObjectRef, why: string): GroveError {
  const info = kindInfo(ref.kind);
  return new GroveError(ErrorCode.Conflict, `Operation cannot be fulfilled on ${info.plural}${info.group ? `.${info.group}` : ''} ${JSON.stringify(ref.name)}: ${why}`, { details: { kind: ref.kind, name: ref.name, reason: 'Conflict' } });
}
