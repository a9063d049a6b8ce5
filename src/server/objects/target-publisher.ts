/**
 * Node targets, schema 2 (docs/protocol.md): after object changes (debounced), every Node's
 * target is derived from the Pods bound to it (controllers/node-targets.ts nodeTargetsByNode)
 * and published retained, QoS 1, in canonical CBOR, with the node's config bundle
 * (config-distributor.ts: its pods' ConfigMaps and Secrets, and on ingress nodes the Ingresses'
 * TLS Secrets) before it. The controllers (controller-loop.ts) decide and bind the
 * Pods; this only tells the nodes.
 *
 * Revisions: a node's target revision is the store revision at the moment its pods changed, and
 * never less than the last one published + 1, so it only moves forward even across restarts (the
 * last published {revision, checksum} per node is kept at GroveKeys.target). An unchanged target
 * is never given a new revision and writes nothing: agents would see a "new" target and flash
 * would be written for nothing.
 */
import { DebouncedPasses } from './debounced-passes.js';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { GROVE_PREFIX, GroveKeys } from '../../core/keys.js';
import type { WirePodTarget } from '../../core/objects/wire.js';
import { topicsFor } from '../../core/topics.js';
import { encodeMessage, podsChecksum } from '../../core/wire-codec.js';
import { makeNodeTarget2 } from '../../core/wire-target.js';
import type { StoreOp } from '../../store/store.js';
import type { ConfigDistributor, ConfigPublication } from '../config-distributor.js';
import { nodeTargetsByNode } from '../controllers/node-targets.js';
import { OwnerIndex } from '../controllers/owner-index.js';
import { ClaimIndex } from '../controllers/claim-index.js';
import { ingressTlsSecretRefs } from '../network/ingress-tls-secrets.js';
import type { ObjectStore } from './object-store.js';
import { readObjects } from './object-snapshot.js';

export const DEFAULT_TARGET_DEBOUNCE_MS = 20;

/** What was last published to a node, stored at GroveKeys.target(node). */
export interface TargetRecord {
  revision: number;
  checksum: string;
  /** Kept so a re-publish after a restart is byte-identical to the original. */
  issuedAt: string;
}

export interface TargetPublisherOptions {
  objects: ObjectStore;
  cluster: string;
  logger: Logger;
  clock: Clock;
  /** Publishes retained, QoS 1; an empty payload clears the retained message. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  /** Per-node ConfigMap/Secret bundles, planned in the same pass as targets. */
  configs?: ConfigDistributor;
  debounceMs?: number;
  /**
   * Resolves when no controller pass is running (the controller loop's idle()): a pass waits for
   * it, since the running pass's commit (a binding) would make its snapshot stale at once.
   */
  controllersIdle?: () => Promise<void>;
}

interface Publication {
  node: string;
  record: TargetRecord;
  pods: WirePodTarget[];
}

/** Store changes that can change a target or a config bundle: objects, and node keys (a rejoin). */
function concernsTargets(key: string): boolean {
  return !key.startsWith(GROVE_PREFIX) || key.startsWith(GroveKeys.nodeKeyPrefix);
}

export class TargetPublisher {
  private readonly log: Logger;
  private readonly last = new Map<string, TargetRecord>();
  private unwatch: (() => void) | undefined;
  private republishNext = false;
  /** Nodes whose current target goes out again in the next pass (see republishNode). */
  private readonly republishNodes = new Set<string>();
  /** Nodes whose target gets a new revision in the next pass even if unchanged (see reissueNode). */
  private readonly reissueNodes = new Set<string>();
  private readonly passes: DebouncedPasses;

  constructor(private readonly opts: TargetPublisherOptions) {
    this.log = opts.logger.child({ component: 'targets' });
    // Leading: a change after a quiet spell (an apply's binding) goes out at once, not a debounce later.
    this.passes = new DebouncedPasses(opts.clock, opts.debounceMs ?? DEFAULT_TARGET_DEBOUNCE_MS, () => this.publishPass(), {
      leading: true,
      ...(opts.controllersIdle ? { before: opts.controllersIdle } : {}),
    });
  }

  /** Loads what was published before, then publishes every node's current target. */
  async start(): Promise<void> {
    const store = this.opts.objects.store;
    for (const e of await store.list<TargetRecord>(GroveKeys.targetPrefix)) this.last.set(e.key.slice(GroveKeys.targetPrefix.length), e.value);
    this.unwatch = store.watch((change) => {
      if (change.ops.some((op) => concernsTargets(op.key))) this.nudge();
    });
    this.republishNext = true;
    this.passes.start();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.passes.stop();
  }

  /** A pass soon (debounced: an apply of ten objects or a burst of bindings costs one pass). */
  nudge(): void {
    this.passes.nudge();
  }

  /**
   * Publishes one node's current target again (same revision, nothing written): for a node
   * that keeps reporting an older revision, as when a broker lost the retained message.
   */
  republishNode(node: string): void {
    this.republishNodes.add(node);
    this.nudge();
  }

  /**
   * Issues one node's target again under a new revision, changed or not: for a node that has
   * applied a revision above this server's (revision-floor.ts), which ignores anything older.
   */
  reissueNode(node: string): void {
    this.reissueNodes.add(node);
    this.nudge();
  }

  /** Every node's target and bundle again, e.g. after reconnecting to a broker that lost them. */
  republishAll(): void {
    this.republishNext = true;
    this.nudge();
  }

  /** Revision of the target last published to `node`, if any. */
  targetRevision(node: string): number | undefined {
    return this.last.get(node)?.revision;
  }

  /** Resolves when no pass is pending or running; a pass waiting out its debounce runs now. */
  idle(): Promise<void> {
    return this.passes.idle();
  }

  private async publishPass(): Promise<void> {
    const republish = this.republishNext;
    this.republishNext = false;
    try {
      await this.pass(republish);
    } catch (err) {
      // The next change retries; a pass has no partial effect worth undoing.
      this.log.error({ err: errorMessage(err) }, 'publishing targets failed');
      if (republish) this.republishNext = true;
    }
  }

  private async pass(republishAll: boolean): Promise<void> {
    const { publications, configs } = await this.plan(republishAll);
    // Config bundles first: a pod that needs a Secret should find it when its target arrives.
    await this.opts.configs?.publish(configs);
    const results = await Promise.allSettled(publications.map((p) => this.publishOne(p)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error({ node: publications[i]!.node, err: errorMessage(r.reason) }, 'publishing target failed');
    });
  }

  /** Decides each node's target, records the changed ones (one commit), then says what to publish. */
  private async plan(republishAll: boolean): Promise<{ publications: Publication[]; configs: ConfigPublication[] }> {
    const store = this.opts.objects.store;
    const objects = await readObjects(this.opts.objects);
    const byNode = nodeTargetsByNode(objects.Pod, new OwnerIndex(objects), new ClaimIndex(objects));
    const now = new Date(this.opts.clock.now()).toISOString();
    const revision = store.revision();
    const publications: Publication[] = [];
    const ops: StoreOp[] = [];
    const known = new Set<string>();
    for (const node of objects.Node) {
      const name = node.metadata.name;
      known.add(name);
      const pods = byNode.get(name) ?? [];
      const checksum = podsChecksum(pods);
      const last = this.last.get(name);
      if (last && last.checksum === checksum && !this.reissueNodes.has(name)) {
        if (republishAll || this.republishNodes.has(name)) publications.push({ node: name, record: last, pods });
        continue;
      }
      const record: TargetRecord = { revision: Math.max(revision, (last?.revision ?? 0) + 1), checksum, issuedAt: now };
      ops.push({ type: 'put', key: GroveKeys.target(name), value: record });
      publications.push({ node: name, record, pods });
    }
    const removed = [...this.last.keys()].filter((n) => !known.has(n));
    for (const n of removed) ops.push({ type: 'delete', key: GroveKeys.target(n) });
    // Recorded before publishing: if we die in between, the restart re-publishes this exact
    // target (same revision) instead of skipping it.
    if (ops.length > 0) await store.commit(ops);
    for (const p of publications) this.last.set(p.node, p.record);
    for (const n of removed) {
      this.last.delete(n);
      // A removed node's retained target is cleared so nothing replays it to a re-used name.
      publications.push({ node: n, record: { revision: 0, checksum: '', issuedAt: now }, pods: [] });
    }
    this.republishNodes.clear();
    this.reissueNodes.clear();
    // Ingress nodes also get the TLS Secrets of the served Ingresses, in their own sealed bundle.
    const extraRefs = ingressTlsSecretRefs(objects.Node, objects.Ingress, objects.IngressClass, objects.Secret);
    const configs = this.opts.configs ? await this.opts.configs.plan({ nodes: [...known], pods: byNode, extraRefs, republishAll, now }) : [];
    return { publications, configs };
  }

  private async publishOne(p: Publication): Promise<void> {
    const topic = topicsFor(this.opts.cluster, p.node).target;
    if (p.record.checksum === '') return this.opts.publish(topic, Buffer.alloc(0));
    const target = makeNodeTarget2({ cluster: this.opts.cluster, node: p.node, revision: p.record.revision, pods: p.pods, issuedAt: p.record.issuedAt, networkView: true });
    await this.opts.publish(topic, encodeMessage(target));
    this.log.debug({ node: p.node, revision: p.record.revision, pods: p.pods.length }, 'target published');
  }
}
