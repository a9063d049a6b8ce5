/**
 * Per-node delivery of ConfigMaps and Secrets (docs/protocol.md, "config"). In each target
 * pass, for every node: the objects its pods reference (config-refs.ts, in each pod's
 * namespace) → a digest (HMAC under the node's key, so the stored digest reveals nothing) →
 * compared with what was last published (GroveKeys.configBundle). Only a changed bundle gets a new revision, one store write and a retained
 * publish, encrypted with the node's key (wire-config.ts); an unchanged one writes nothing.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConfigObject } from '../core/config-refs.js';
import { errorMessage } from '../core/errors.js';
import { DEFAULT_NAMESPACE } from '../core/keys.js';
import type { WirePodTarget } from '../core/objects/wire.js';
import { GroveKeys } from '../core/keys.js';
import { keyId } from '../core/seal.js';
import { topicsFor } from '../core/topics.js';
import { MAX_CONFIG_MESSAGE_BYTES, sealConfigBundle } from '../core/wire-config.js';
import type { Store, StoreOp } from '../store/store.js';
import { collectConfigRefs, refKey, type ConfigRef } from '../core/config-refs.js';
import { getNodeKey, NODE_KEY_PREFIX } from './node-keys.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { ObjectStore } from './objects/object-store.js';

export const CONFIG_RECORD_PREFIX = GroveKeys.configBundlePrefix;

/** What was last published to a node, stored under configs/<node>. */
export interface ConfigRecord {
  revision: number;
  /** HMAC-SHA256 (node key) of the bundle's objects. */
  digest: string;
  /** Which node key it was sealed for: a rejoin (new key) republishes. */
  keyId: string;
  issuedAt: string;
}

export interface ConfigPublication {
  node: string;
  record: ConfigRecord;
  objects: ConfigObject[];
  /** Absent: clear the node's retained bundle (the node is gone). */
  key?: Buffer;
}

export interface ConfigDistributorOptions {
  /** Records (GroveKeys.configBundle, node keys) in its store; ConfigMaps and Secrets as objects. */
  objects: ObjectStore;
  cluster: string;
  logger: Logger;
  /** Publishes retained, QoS 1; an empty payload clears the retained message. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
}

export interface ConfigPlanInput {
  nodes: readonly string[];
  /** Each node's pods, as its target carries them. */
  pods: ReadonlyMap<string, readonly WirePodTarget[]>;
  /** Objects a node needs beyond its pods' (an ingress node's TLS Secrets: ingress-tls-secrets.ts), by node. */
  extraRefs?: ReadonlyMap<string, readonly NamespacedRef[]>;
  republishAll: boolean;
  now: string;
}

/** A reference in the namespace of the pod (or Ingress) that makes it. */
export interface NamespacedRef extends ConfigRef {
  namespace: string;
}

/** The distinct ConfigMaps and Secrets `pods` reference, each in its pod's namespace, sorted. */
export function podConfigRefs(pods: readonly WirePodTarget[]): NamespacedRef[] {
  const byNamespace = new Map<string, WirePodTarget[]>();
  for (const p of pods) byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
  return [...byNamespace.keys()].sort().flatMap((namespace) => collectConfigRefs(byNamespace.get(namespace)!.map((p) => p.spec)).map((r) => ({ ...r, namespace })));
}

/** `refs` with `extra` added (each object once), in podConfigRefs' order: by namespace, then kind and name. */
export function withExtraRefs(refs: readonly NamespacedRef[], extra: readonly NamespacedRef[]): NamespacedRef[] {
  if (extra.length === 0) return [...refs];
  const id = (r: NamespacedRef) => `${r.namespace}\u0000${r.kind}/${r.name}`;
  const all = new Map([...refs, ...extra].map((r) => [id(r), r]));
  return [...all.keys()].sort().map((k) => all.get(k)!);
}

/** An object with the sha256 of its content, hashed once per pass however many nodes use it. */
interface HashedObject {
  object: ConfigObject;
  hash: string;
}

/**
 * HMAC (node key) over the objects' names (with their namespace outside `default`, so a bundle
 * of default objects keeps the digest it had before namespaces), versions and content hashes.
 */
export function bundleDigest(key: Buffer, objects: readonly HashedObject[]): string {
  // A Secret's type counts too (only when not Opaque, so older bundles keep their digest): a
  // node whose bundle predates the field gets it again, with the type, once.
  const id = ({ object: o }: HashedObject) => [...(o.namespace === undefined ? [o.kind, o.name] : [o.kind, o.namespace, o.name]), ...(o.type !== undefined ? [o.type] : [])];
  return createHmac('sha256', key)
    .update(canonicalJson(objects.map((o) => [...id(o), o.object.version, o.hash])))
    .digest('hex');
}

/** `ConfigMap/settings`, `Secret/ns/db`: names for log lines (never values). */
const objectNames = (objects: readonly ConfigObject[]): string[] => objects.map(refKey);

export class ConfigDistributor {
  private readonly log: Logger;
  private last: Map<string, ConfigRecord> | undefined;
  /** Nodes already warned about having no key (once per server run). */
  private readonly keyless = new Set<string>();
  /** Node keys read so far; a join (which rotates a key) drops the node's entry. */
  private readonly keys = new Map<string, Buffer>();
  private readonly unwatch: () => void;

  constructor(private readonly opts: ConfigDistributorOptions) {
    this.log = opts.logger.child({ component: 'config-distributor' });
    // Every pass needs every referencing node's key: read once, not unsealed again per pass.
    this.unwatch = opts.objects.store.watch((change) => {
      for (const op of change.ops) if (op.key.startsWith(NODE_KEY_PREFIX)) this.keys.delete(op.key.slice(NODE_KEY_PREFIX.length));
    });
  }

  stop(): void {
    this.unwatch();
  }

  /** Under the store mutex: decides each node's bundle and records the changed ones in one commit. */
  async plan(input: ConfigPlanInput): Promise<ConfigPublication[]> {
    const { store } = this.opts.objects;
    const last = await this.records();
    const objectCache = new Map<string, HashedObject | undefined>();
    const publications: ConfigPublication[] = [];
    const ops: StoreOp[] = [];
    const revision = store.revision();
    const known = new Set(input.nodes);
    for (const node of input.nodes) {
      const refs = withExtraRefs(podConfigRefs(input.pods.get(node) ?? []), input.extraRefs?.get(node) ?? []);
      const previous = last.get(node);
      if (refs.length === 0 && !previous) continue;
      const key = await this.nodeKey(node);
      if (!key) {
        if (refs.length > 0 && !this.keyless.has(node)) {
          this.keyless.add(node);
          this.log.warn({ node }, 'node has no config key (joined before config delivery): its pods get no ConfigMaps/Secrets until `grove agent` fetches one or the node rejoins');
        }
        continue;
      }
      const hashed = await this.objects(refs, objectCache);
      const objects = hashed.map((h) => h.object);
      const digest = bundleDigest(key, hashed);
      const id = keyId(key);
      if (previous && previous.digest === digest && previous.keyId === id) {
        if (input.republishAll) publications.push({ node, record: previous, objects, key });
        continue;
      }
      const record: ConfigRecord = { revision: Math.max(revision, (previous?.revision ?? 0) + 1), digest, keyId: id, issuedAt: input.now };
      ops.push({ type: 'put', key: GroveKeys.configBundle(node), value: record });
      publications.push({ node, record, objects, key });
    }
    const removed = [...last.keys()].filter((n) => !known.has(n));
    for (const n of removed) ops.push({ type: 'delete', key: GroveKeys.configBundle(n) });
    // Recorded before publishing, as targets are: a crash in between republishes the same revision.
    if (ops.length > 0) await store.commit(ops);
    for (const p of publications) last.set(p.node, p.record);
    for (const n of removed) {
      last.delete(n);
      publications.push({ node: n, record: { revision: 0, digest: '', keyId: '', issuedAt: input.now }, objects: [] });
    }
    return publications;
  }

  async publish(publications: readonly ConfigPublication[]): Promise<void> {
    const results = await Promise.allSettled(publications.map((p) => this.publishOne(p)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error({ node: publications[i]!.node, err: errorMessage(r.reason) }, 'publishing config bundle failed');
    });
  }

  /** Revision of the bundle last published to `node` (tests, describe). */
  async revisionOf(node: string): Promise<number | undefined> {
    return (await this.records()).get(node)?.revision;
  }

  private async publishOne(p: ConfigPublication): Promise<void> {
    const topic = topicsFor(this.opts.cluster, p.node).config;
    if (!p.key) return this.opts.publish(topic, Buffer.alloc(0));
    const payload = sealConfigBundle({ cluster: this.opts.cluster, node: p.node, revision: p.record.revision, issuedAt: p.record.issuedAt, objects: p.objects }, p.key);
    if (payload.length > MAX_CONFIG_MESSAGE_BYTES) {
      // The node keeps its last bundle; the next change of its objects tries again.
      this.log.error({ node: p.node, bytes: payload.length, limit: MAX_CONFIG_MESSAGE_BYTES, objects: objectNames(p.objects) }, 'config bundle too large for one message: not sent');
      return;
    }
    await this.opts.publish(topic, payload);
    // Names only: values never reach a log line.
    this.log.debug({ node: p.node, revision: p.record.revision, objects: objectNames(p.objects) }, 'config bundle published');
  }

  private async records(): Promise<Map<string, ConfigRecord>> {
    if (!this.last) {
      const entries = await this.opts.objects.store.list<ConfigRecord>(CONFIG_RECORD_PREFIX);
      this.last = new Map(entries.map((e) => [e.key.slice(CONFIG_RECORD_PREFIX.length), e.value]));
    }
    return this.last;
  }

  private async nodeKey(node: string): Promise<Buffer | undefined> {
    const cached = this.keys.get(node);
    if (cached) return cached;
    const key = await getNodeKey(this.opts.objects.store, node);
    if (key) this.keys.set(node, key);
    return key;
  }

  /**
   * The referenced objects that exist (a missing one is left out: the agent treats it as
   * absent). Secret values go decoded (the bundle is encrypted); `namespace` only outside
   * `default`, so a 0.1 node's bundle digest and content do not change.
   */
  private async objects(refs: readonly NamespacedRef[], cache: Map<string, HashedObject | undefined>): Promise<HashedObject[]> {
    const out: HashedObject[] = [];
    for (const ref of refs) {
      const k = `${ref.namespace}/${refKey(ref)}`;
      if (!cache.has(k)) {
        const found = await this.opts.objects.get({ kind: ref.kind, namespace: ref.namespace, name: ref.name });
        const object: ConfigObject | undefined = found && {
          kind: ref.kind,
          ...(ref.namespace !== DEFAULT_NAMESPACE ? { namespace: ref.namespace } : {}),
          name: ref.name,
          data: configData(found),
          ...binaryDataOf(found),
          version: found.metadata.resourceVersion ?? '0',
          ...(found.kind === 'Secret' && found.type !== undefined && found.type !== 'Opaque' ? { type: found.type } : {}),
        };
        const hashed = object && (object.binaryData ? { data: object.data, binaryData: object.binaryData } : object.data);
        cache.set(k, object && { object, hash: createHash('sha256').update(canonicalJson(hashed)).digest('hex') });
      }
      const obj = cache.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }
}

/** A ConfigMap's binaryData as the node receives it (base64, line breaks dropped); nothing when it has none. */
function binaryDataOf(o: { kind: 'ConfigMap' | 'Secret'; binaryData?: Readonly<Record<string, string>> }): { binaryData?: Record<string, string> } {
  if (o.kind !== 'ConfigMap' || !o.binaryData || Object.keys(o.binaryData).length === 0) return {};
  return { binaryData: Object.fromEntries(Object.entries(o.binaryData).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')])) };
}

/** A ConfigMap's data, or a Secret's data decoded from base64 (as the node mounts it). */
export function configData(o: { kind: 'ConfigMap' | 'Secret'; data?: Readonly<Record<string, string>> }): Record<string, string> {
  const data = { ...(o.data ?? {}) };
  if (o.kind === 'Secret') for (const [k, v] of Object.entries(data)) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return data;
}
