/**
 * The node's copy of the cluster network view (issue 15, docs/networking.md): the retained
 * messages of grove/v1/<cluster>/network/# (src/core/wire-network.ts) are validated, assembled
 * into one ClusterNetworkView, coalesced (100 ms: the burst of retained messages after a
 * connection is one update), persisted in the agent's store (one write per change, none when
 * the view is unchanged), and handed to every NetworkViewConsumer (overlay, service proxier,
 * DNS), each of which programs the node from the whole view.
 *
 * At start the persisted view goes to the consumers before MQTT is up, so a node rebooting with
 * the server unreachable keeps its routes, rules and DNS. A Service the index lists whose
 * message has not arrived (yet) keeps its last-known view rather than vanishing for a moment.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import { AgentKeys } from '../../../src/core/keys.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../src/core/network/view.js';
import { networkTopics, parseNetworkServiceTopic } from '../../../src/core/topics.js';
import { createWireEncoder, encodeCanonical, encodeMessage } from '../../../src/core/wire-codec.js';
import { assembleView, decodeNetworkCluster, decodeNetworkService, serviceKey, type WireNetworkCluster, type WireNetworkService } from '../../../src/core/wire-network.js';
import type { Store } from '../../../src/store/store.js';

export const DEFAULT_NETWORK_COALESCE_MS = 100;
/** A consumer whose transaction failed (xtables lock held, a link not up yet) is given the view again after this. */
export const NETWORK_RETRY_MS = 5000;
/**
 * How often the consumers check that the host still holds what they programmed (kube-proxy's
 * syncPeriod): a firewall reload that flushed the tables must not leave Services dead until the
 * next change. Each check is cheap (one iptables-save); only what is missing is written again.
 */
export const NETWORK_RESYNC_MS = 60_000;

export interface NetworkSyncOptions {
  cluster: string;
  store: Store;
  consumers: readonly NetworkViewConsumer[];
  clock: Clock;
  logger: Logger;
  coalesceMs?: number;
  retryMs?: number;
  /** The consumers' resync period (NETWORK_RESYNC_MS); 0 = none. */
  resyncMs?: number;
}

/** What is persisted: the messages themselves, validated again when read back. */
interface SavedView {
  index: WireNetworkCluster;
  services: WireNetworkService[];
}

export class NetworkSync {
  private readonly log: Logger;
  private readonly encoder = createWireEncoder();
  private readonly topics: ReturnType<typeof networkTopics>;
  private index: WireNetworkCluster | undefined;
  private readonly services = new Map<string, WireNetworkService>();
  private current: ClusterNetworkView | undefined;
  /**
   * sha256 of the persisted view's canonical CBOR: what tells an unchanged view. A digest, not
   * the bytes: those are a slice of the CBOR encoder's shared buffer and would keep all of it
   * (96 KiB with 100 Services) alive for as long as the view stays the same.
   */
  private savedDigest: string | undefined;
  private timer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The consumers were told the server publishes no view (noteTarget). */
  private withoutView = false;

  constructor(private readonly opts: NetworkSyncOptions) {
    this.log = opts.logger.child({ component: 'network-sync' });
    this.topics = networkTopics(opts.cluster);
  }

  /** The view the consumers last got (undefined before any). */
  view(): ClusterNetworkView | undefined {
    return this.current;
  }

  /** Loads the persisted view and gives it to the consumers (before MQTT). */
  async start(): Promise<void> {
    this.armResync();
    const saved = await this.load();
    if (!saved) return;
    this.index = saved.index;
    for (const s of saved.services) this.services.set(serviceKey(s.service), s);
    this.savedDigest = viewDigest(encodeCanonical(saved, this.encoder));
    this.current = assembleView(saved.index, this.services);
    await this.deliver(this.current);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    if (this.retryTimer) this.opts.clock.clearTimeout(this.retryTimer);
    if (this.resyncTimer) this.opts.clock.clearTimeout(this.resyncTimer);
    this.timer = undefined;
    this.retryTimer = undefined;
    this.resyncTimer = undefined;
    await this.chain;
  }

  /**
   * What the node's target says of the server (called before the target's pods are started): a
   * server that publishes no network view (older Grove) would leave pods waiting for one forever,
   * so without a view the consumers fall back to the node's own network, with one warning.
   */
  noteTarget(target: { networkView?: boolean }): void {
    if (target.networkView === true || this.current !== undefined || this.withoutView || this.stopped) return;
    this.withoutView = true;
    this.log.warn('the server publishes no cluster network view (an older Grove server): pods start on this node\'s own subnet, without Services or cluster DNS; upgrade the server');
    for (const consumer of this.opts.consumers) consumer.withoutClusterNetwork?.();
  }

  /** One MQTT message of grove/v1/<cluster>/network/#. Invalid ones are logged and ignored. */
  handle(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    try {
      if (topic === this.topics.cluster) {
        if (payload.length === 0) return;
        // The broker keeps one retained message per topic and delivers a topic's messages in
        // order: the last one is the truth, even with a lower revision (a server restored from
        // a backup counts from its older store revision).
        this.index = decodeNetworkCluster(payload);
      } else {
        const at = parseNetworkServiceTopic(this.opts.cluster, topic);
        if (!at) return;
        const key = serviceKey(at);
        if (payload.length === 0) this.services.delete(key);
        else {
          const message = decodeNetworkService(payload);
          if (serviceKey(message.service) !== key) throw new Error(`network service message for ${serviceKey(message.service)} on the topic of ${key}`);
          this.services.set(key, message);
        }
      }
    } catch (err) {
      this.log.warn({ topic, err: errorMessage(err) }, 'network view message ignored');
      return;
    }
    this.timer ??= this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.chain = this.chain.then(() => this.flush());
    }, this.opts.coalesceMs ?? DEFAULT_NETWORK_COALESCE_MS);
  }

  /** Resolves when no update is pending or running; a pending one runs now (tests). */
  async idle(): Promise<void> {
    if (this.timer) {
      this.opts.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.chain = this.chain.then(() => this.flush());
    }
    await this.chain;
  }

  private async flush(): Promise<void> {
    if (this.stopped || !this.index) return;
    const index = this.index;
    // Listed but not (yet) received: keep what the last view had.
    const services = new Map<string, WireNetworkService>();
    for (const key of Object.keys(index.services)) {
      const message = this.services.get(key);
      if (message) services.set(key, message);
    }
    const saved: SavedView = { index, services: [...services.keys()].sort().map((k) => services.get(k)!) };
    const lastKnown = this.current?.services ?? [];
    const view = assembleView(index, services);
    for (const s of lastKnown) if (index.services[serviceKey(s)] !== undefined && !services.has(serviceKey(s))) view.services.push(s);
    view.services.sort((a, b) => (serviceKey(a) < serviceKey(b) ? -1 : 1));
    const digest = viewDigest(encodeCanonical(saved, this.encoder));
    if (this.savedDigest === digest) return;
    try {
      await this.opts.store.commit([{ type: 'put', key: AgentKeys.networkView, value: saved }]);
      this.savedDigest = digest;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'could not persist the network view');
    }
    this.current = view;
    await this.deliver(view);
  }

  private async deliver(view: ClusterNetworkView, consumers: readonly NetworkViewConsumer[] = this.opts.consumers): Promise<void> {
    const failed: NetworkViewConsumer[] = [];
    for (const consumer of consumers) {
      try {
        await consumer.update(view);
      } catch (err) {
        failed.push(consumer);
        this.log.error({ err: errorMessage(err), revision: view.revision }, 'a network consumer failed to apply the view; retrying');
      }
    }
    // Only the failed ones again, with the newest view (a newer view delivered meanwhile supersedes it).
    if (failed.length === 0 || this.stopped) return;
    if (this.retryTimer) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.chain = this.chain.then(() => (this.current && !this.stopped ? this.deliver(this.current, failed) : undefined));
    }, this.opts.retryMs ?? NETWORK_RETRY_MS);
  }

  /** Every resync period, in the update chain (never beside an update): each consumer checks the host. */
  private armResync(): void {
    const period = this.opts.resyncMs ?? NETWORK_RESYNC_MS;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      this.chain = this.chain.then(() => this.resync()).finally(() => this.armResync());
    }, period);
  }

  private async resync(): Promise<void> {
    if (this.stopped || !this.current) return;
    for (const consumer of this.opts.consumers) {
      try {
        await consumer.resync?.();
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'a network consumer failed to check or reprogram the host; trying again at the next resync');
      }
    }
  }

  /** The persisted view, validated as the wire messages it was; undefined when absent or unreadable. */
  private async load(): Promise<SavedView | undefined> {
    try {
      const entry = await this.opts.store.get<SavedView>(AgentKeys.networkView);
      if (!entry) return undefined;
      const index = decodeNetworkCluster(encodeMessage(entry.value.index));
      const services = (Array.isArray(entry.value.services) ? entry.value.services : []).map((s) => decodeNetworkService(encodeMessage(s)));
      return { index, services };
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'stored network view unreadable, waiting for the server');
      return undefined;
    }
  }
}

function viewDigest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}
