/**
 * Per-node delivery of ConfigMaps and Secrets (docs/protocol.md, "config"). In each controller
 * pass, for every node: the objects its pods reference (config-refs.ts) → a digest (HMAC under
 * the node's key, so the stored digest reveals nothing) → compared with what was last published
 * (configs/<node>). Only a changed bundle gets a new revision, one store write and a retained
 * publish, encrypted with the node's key (wire-config.ts); an unchanged one writes nothing.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConfigObject } from '../core/config-refs.js';
import { errorMessage } from '../core/errors.js';
import type { ConfigMap, PodAssignment, PodTemplate, Secret } from '../core/model.js';
import { GroveKeys } from '../core/keys.js';
import { keyId } from '../core/seal.js';
import { topicsFor } from '../core/topics.js';
import { MAX_CONFIG_MESSAGE_BYTES, sealConfigBundle } from '../core/wire-config.js';
import type { Store, StoreOp } from '../store/store.js';
import { collectConfigRefs, refKey, type ConfigRef } from '../core/config-refs.js';
import { getNodeKey, NODE_KEY_PREFIX } from './node-keys.js';
import { canonicalJson, type AppIndex, type OlderTemplate } from './targets.js';

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
  store: Store;
  cluster: string;
  logger: Logger;
  /** Publishes retained, QoS 1; an empty payload clears the retained message. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
}

export interface ConfigPlanInput {
  nodes: readonly string[];
  byNode: ReadonlyMap<string, readonly PodAssignment[]>;
  apps: AppIndex;
  olderTemplate?: OlderTemplate;
  republishAll: boolean;
  now: string;
}

/** The templates a node's pods run (older ones mid-rollout), as buildNodePods resolves them. */
export function nodeTemplates(assignments: readonly PodAssignment[], apps: AppIndex, olderTemplate?: OlderTemplate): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const a of assignments) {
    const entry = apps.get(a.app);
    const t = entry && (entry.hash === a.templateHash ? entry.app.spec.template : olderTemplate?.(a.app, a.templateHash));
    if (t) out.push(t);
  }
  return out;
}

/** An object with the sha256 of its content, hashed once per pass however many nodes use it. */
interface HashedObject {
  object: ConfigObject;
  hash: string;
}

/** HMAC (node key) over the objects' names, versions and content hashes. */
export function bundleDigest(key: Buffer, objects: readonly HashedObject[]): string {
  return createHmac('sha256', key)
    .update(canonicalJson(objects.map((o) => [o.object.kind, o.object.name, o.object.version, o.hash])))
    .digest('hex');
}

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
    this.unwatch = opts.store.watch((change) => {
      for (const op of change.ops) if (op.key.startsWith(NODE_KEY_PREFIX)) this.keys.delete(op.key.slice(NODE_KEY_PREFIX.length));
    });
  }

  stop(): void {
    this.unwatch();
  }

  /** Under the store mutex: decides each node's bundle and records the changed ones in one commit. */
  async plan(input: ConfigPlanInput): Promise<ConfigPublication[]> {
    const { store } = this.opts;
    const last = await this.records();
    const objectCache = new Map<string, HashedObject | undefined>();
    const publications: ConfigPublication[] = [];
    const ops: StoreOp[] = [];
    const revision = store.revision();
    const known = new Set(input.nodes);
    for (const node of input.nodes) {
      const refs = collectConfigRefs(nodeTemplates(input.byNode.get(node) ?? [], input.apps, input.olderTemplate));
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
      ops.push({ type: 'put', key: CONFIG_RECORD_PREFIX + node, value: record });
      publications.push({ node, record, objects, key });
    }
    const removed = [...last.keys()].filter((n) => !known.has(n));
    for (const n of removed) ops.push({ type: 'delete', key: CONFIG_RECORD_PREFIX + n });
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
      this.log.error({ node: p.node, bytes: payload.length, limit: MAX_CONFIG_MESSAGE_BYTES, objects: p.objects.map((o) => `${o.kind}/${o.name}`) }, 'config bundle too large for one message: not sent');
      return;
    }
    await this.opts.publish(topic, payload);
    // Names only: values never reach a log line.
    this.log.debug({ node: p.node, revision: p.record.revision, objects: p.objects.map((o) => `${o.kind}/${o.name}`) }, 'config bundle published');
  }

  private async records(): Promise<Map<string, ConfigRecord>> {
    if (!this.last) {
      const entries = await this.opts.store.list<ConfigRecord>(CONFIG_RECORD_PREFIX);
      this.last = new Map(entries.map((e) => [e.key.slice(CONFIG_RECORD_PREFIX.length), e.value]));
    }
    return this.last;
  }

  private async nodeKey(node: string): Promise<Buffer | undefined> {
    const cached = this.keys.get(node);
    if (cached) return cached;
    const key = await getNodeKey(this.opts.store, node);
    if (key) this.keys.set(node, key);
    return key;
  }

  /** The referenced objects that exist (a missing one is left out: the agent treats it as absent). */
  private async objects(refs: readonly ConfigRef[], cache: Map<string, HashedObject | undefined>): Promise<HashedObject[]> {
    const out: HashedObject[] = [];
    for (const ref of refs) {
      const k = refKey(ref);
      if (!cache.has(k)) {
        const entry = await this.opts.store.get<ConfigMap | Secret>((ref.kind === 'ConfigMap' ? 'configmaps/' : 'secrets/') + ref.name);
        const object: ConfigObject | undefined = entry && { kind: ref.kind, name: ref.name, data: { ...entry.value.data }, version: String(entry.revision) };
        cache.set(k, object && { object, hash: createHash('sha256').update(canonicalJson(object.data)).digest('hex') });
      }
      const obj = cache.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }
}
