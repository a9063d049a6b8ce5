/**
 * What the nodes report, kept in memory: the latest NodeStatus and presence of every known
 * node (a Node object). Heartbeats arrive every ~15 s from every node and must never touch
 * flash: the Node's status is handed to `reportNode` (objects/node-reports.ts) only when its
 * readiness flips (Ready ↔ NotReady) or its facts change.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import { kindPrefix } from '../core/keys.js';
import { parseNodeTopic } from '../core/topics.js';
import { decodeNodeStatus, decodePresence } from '../core/wire-from-agent.js';
import type { NodeStatus } from '../core/wire-types.js';
import type { Store, StoreChange } from '../store/store.js';
import type { Clock } from '../core/clock.js';
import { judgeStatus, retireRun } from './status-order.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { Node } from '../core/objects/cluster.js';
import { KINDS } from '../core/objects/kinds.js';
import { nodeStatusFactsKey, type NodeReadiness } from './objects/node-object.js';
import { DroppedLabelNotes, NODE_LABEL_PREFIX } from './node-labels.js';

/**
 * How long a node may stay silent (no status, no presence) before it is NotReady: Kubernetes'
 * node-monitor-grace-period. Independent of the agents' heartbeat interval on purpose: the
 * server cannot know every agent's setting, and an operator tunes one figure.
 */
export const DEFAULT_NODE_GRACE_MS = 40_000;

/** Where Node objects live in the store. */
const NODE_PREFIX = kindPrefix(KINDS.Node);

/** What a Node object says about readiness. */
function storedReadiness(value: unknown): { name: string; ready: boolean; lastTransitionAt?: string } | undefined {
  const v = value as Partial<Node> | undefined;
  if (typeof v?.apiVersion !== 'string' || typeof v.metadata?.name !== 'string') return undefined;
  const ready = v.status?.conditions?.find((c) => c.type === 'Ready');
  return { name: v.metadata.name, ready: ready?.status === 'True', ...(ready?.lastTransitionTime ? { lastTransitionAt: ready.lastTransitionTime } : {}) };
}

/** Where a Node's readiness flips and new facts go (objects/node-reports.ts writes its status). */
export type NodeReportSink = (node: string, readiness: NodeReadiness, facts?: NodeStatus['facts']) => void;

export interface NodeLiveView {
  ready: boolean;
  online: boolean;
  /** ISO time the node went from Ready to NotReady; absent while Ready or never Ready yet. */
  notReadySince?: string;
  status?: NodeStatus;
  lastStatusAt?: string;
}

export type NodeEventReason = 'ready' | 'not-ready' | 'facts' | 'pods';

export interface StatusCacheOptions {
  store: Store;
  cluster: string;
  logger: Logger;
  clock: Clock;
  /** NotReady after this long without a status (default 40 s); presence offline flips at once. */
  nodeGraceMs?: number;
  /**
   * Readiness flipped, the facts the scheduler uses (arch, labels) appeared or changed, or the
   * set of pods the node reports ready changed (rolling updates wait on it).
   */
  onNodeEvent?: (node: string, reason: NodeEventReason) => void;
  /** The revision of the target last published to a node (the controller's). */
  targetRevision?: (node: string) => number | undefined;
  /** A node has reported an older revision than its target for a while: send it again. */
  onNodeBehind?: (node: string) => void;
  /** How long a node may lag its target before onNodeBehind, and between calls (default 30 s). */
  behindAfterMs?: number;
  /** Every accepted status's applied target revision (revisions never go backwards: revision-floor.ts). */
  onNodeRevision?: (node: string, observedRevision: number) => void;
  /** Where a Node gets its status (src/server/objects/node-reports.ts): called on readiness flips and when its facts change. */
  reportNode?: NodeReportSink;
}

interface Live {
  online?: boolean;
  status?: NodeStatus;
  lastStatusMs?: number;
  /** Since when the node has reported a revision older than its target, and when it was last resent. */
  behindSinceMs?: number;
  resentMs?: number;
  /** Run ids of the agent that newer runs replaced (status-order.ts). */
  retiredRuns?: string[];
  /** The target and applied revisions last handed to reportNode ("target/applied"). */
  reportedRevisions?: string;
}

export class StatusCache {
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly live = new Map<string, Live>();
  /** Readiness as last reported to the Node objects, per known node: transitions are judged against it. */
  private readonly stored = new Map<string, boolean>();
  /** When each NotReady node stopped being Ready (ms), for eviction timing. */
  private readonly notReadySince = new Map<string, number>();
  private startedMs = 0;
  private unwatch: (() => void) | undefined;
  /** Dropped messages are logged with their reason, at most once a minute per node and reason. */
  private readonly drops: LogThrottle;
  /** Self-reported labels outside node.grove.io/ are dropped (node-labels.ts); logged once per node. */
  private readonly labelNotes = new DroppedLabelNotes();

  constructor(private readonly opts: StatusCacheOptions) {
    this.log = opts.logger.child({ component: 'status-cache' });
    this.timeoutMs = opts.nodeGraceMs ?? DEFAULT_NODE_GRACE_MS;
    this.drops = new LogThrottle({ now: () => opts.clock.now() });
  }

  async start(): Promise<void> {
    this.startedMs = this.opts.clock.now();
    this.unwatch = this.opts.store.watch((change) => this.onStoreChange(change));
    for (const e of await this.opts.store.list(NODE_PREFIX)) {
      const found = storedReadiness(e.value);
      if (!found) continue;
      const { name, ready, lastTransitionAt } = found;
      this.stored.set(name, ready);
      // NotReady before we restarted: the clock kept running, eviction timing goes on from then.
      const since = lastTransitionAt ? Date.parse(lastTransitionAt) : NaN;
      if (!ready && Number.isFinite(since)) this.notReadySince.set(name, since);
    }
  }

  /** The grace in use (the server derives its sweep interval from it). */
  get graceMs(): number {
    return this.timeoutMs;
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Handles a status or presence message; returns false for topics it does not own. */
  handleMessage(topic: string, payload: Buffer): boolean {
    const parsed = parseNodeTopic(topic);
    if (!parsed || (parsed.kind !== 'status' && parsed.kind !== 'presence')) return false;
    const { node } = parsed;
    if (parsed.cluster !== this.opts.cluster) return true;
    // Unknown nodes (never joined, or deleted) are ignored: nothing is kept for them.
    if (!this.stored.has(node)) {
      this.dropped(node, parsed.kind, 'unknown-node', 'the node is not joined (or was deleted)');
      return true;
    }
    try {
      if (parsed.kind === 'status') this.onStatus(node, decodeNodeStatus(payload));
      else {
        const presence = decodePresence(payload);
        if (presence.node !== node) throw new Error(`presence names node ${presence.node}`);
        this.entry(node).online = presence.online;
      }
    } catch (err) {
      this.dropped(node, parsed.kind, 'invalid', errorMessage(err));
      return true;
    }
    this.evaluate(node);
    return true;
  }

  /** Re-evaluates every node's readiness (called on a timer): heartbeats that stopped show here. */
  sweep(): void {
    for (const node of this.stored.keys()) this.evaluate(node);
  }

  isReady(node: string): boolean {
    const l = this.live.get(node);
    const now = this.opts.clock.now();
    if (l?.online === false) return false;
    if (l?.lastStatusMs !== undefined) return now - l.lastStatusMs <= this.timeoutMs;
    // Just after a restart nothing has been heard yet: a node that was Ready keeps that state
    // for one timeout instead of flapping to NotReady and back on every server restart.
    return (this.stored.get(node) ?? false) && now - this.startedMs <= this.timeoutMs;
  }

  /** Every node's last report, for the object controllers' snapshots (controllers/controller.ts NodeReport). */
  reports(): Map<string, { status: NodeStatus; receivedAt: number; online: boolean }> {
    const out = new Map<string, { status: NodeStatus; receivedAt: number; online: boolean }>();
    for (const [node, l] of this.live) {
      if (l.status && l.lastStatusMs !== undefined) out.set(node, { status: l.status, receivedAt: l.lastStatusMs, online: l.online ?? false });
    }
    return out;
  }

  /** When `node` last reported a status (ms), if since this server started. */
  lastReportAt(node: string): number | undefined {
    return this.live.get(node)?.lastStatusMs;
  }

  view(node: string): NodeLiveView {
    const l = this.live.get(node);
    const ready = this.isReady(node);
    const since = this.notReadySince.get(node);
    return {
      ready,
      online: l?.online ?? false,
      ...(!ready && since !== undefined ? { notReadySince: new Date(since).toISOString() } : {}),
      ...(l?.status ? { status: l.status } : {}),
      ...(l?.lastStatusMs !== undefined ? { lastStatusAt: new Date(l.lastStatusMs).toISOString() } : {}),
    };
  }

  private entry(node: string): Live {
    let l = this.live.get(node);
    if (!l) this.live.set(node, (l = {}));
    return l;
  }

  private onStatus(node: string, status: NodeStatus): void {
    // The broker's ACL keeps a node on its own topics; this guards a misconfigured broker.
    if (status.node !== node) throw new Error(`status names node ${status.node}`);
    const l = this.entry(node);
    const prev = l.status;
    // A stale message (reordered, or redelivered after a reconnect) must not roll state back.
    const verdict = judgeStatus(prev, status, l.retiredRuns);
    if (!verdict.accept) {
      this.dropped(node, 'status', verdict.kind, verdict.reason);
      return;
    }
    if (verdict.newRun) {
      l.retiredRuns = retireRun(l.retiredRuns ?? [], prev?.runId);
      if (this.drops.admit(`${node}:new-run`) !== undefined) this.log.info({ node, runId: status.runId, previousRunId: prev?.runId }, 'node agent restarted (new run)');
    }
    l.status = status;
    l.lastStatusMs = this.opts.clock.now();
    // A status proves the node is connected, even if its last presence said offline.
    l.online = true;
    const factsChanged =
      !prev ||
      prev.facts.arch !== status.facts.arch ||
      JSON.stringify(prev.facts.labels) !== JSON.stringify(status.facts.labels);
    this.checkBehind(node, l, status);
    this.opts.onNodeRevision?.(node, status.observedRevision);
    if (factsChanged) {
      const dropped = this.labelNotes.note(node, status.facts.labels);
      if (dropped) this.log.warn({ node, labels: dropped }, `labels the node reports about itself must start with ${NODE_LABEL_PREFIX}: ignored`);
    }
    // A new target applied (or one the node does not apply) is Node status too: reported when
    // the pair changes, so heartbeats stay free.
    // So are the facts the Node shows (versions, addresses, capacity, pressure bands).
    const shownFactsChanged = !prev || nodeStatusFactsKey(prev.facts) !== nodeStatusFactsKey(status.facts);
    if (factsChanged || shownFactsChanged || this.revisionsKey(node, l) !== l.reportedRevisions) this.report(node, status.facts);
    if (factsChanged) this.opts.onNodeEvent?.(node, 'facts');
    // Any change of what it says about its pods (state, readiness, restarts, Job progress,
    // deferred updates) is Pod status for the controllers to write; repeats change nothing.
    else if (!prev || podsKey(prev) !== podsKey(status)) this.opts.onNodeEvent?.(node, 'pods');
  }

  /**
   * A node that keeps reporting an older revision than the one published to it has missed it
   * (a broker lost the retained message, or the subscription, in a failover): ask for it to be
   * sent again, at most once per interval. A node still applying a large target only gets the
   * same message twice, which it ignores.
   */
  private checkBehind(node: string, l: Live, status: NodeStatus): void {
    const target = this.opts.targetRevision?.(node);
    const now = this.opts.clock.now();
    if (target === undefined || status.observedRevision >= target) {
      delete l.behindSinceMs;
      return;
    }
    l.behindSinceMs ??= now;
    const after = this.opts.behindAfterMs ?? 30_000;
    if (now - l.behindSinceMs < after || (l.resentMs !== undefined && now - l.resentMs < after)) return;
    l.resentMs = now;
    this.log.info({ node, observed: status.observedRevision, target }, 'node reports an older target revision: sending its target again');
    this.opts.onNodeBehind?.(node);
  }

  /** Logs a dropped status or presence with its reason, throttled per node and kind of reason. */
  private dropped(node: string, kind: string, why: string, reason: string): void {
    const suppressed = this.drops.admit(`${node}:${kind}:${why}`);
    if (suppressed === undefined) return;
    this.log.warn({ node, kind, reason, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, `${kind} from node ${node} dropped: ${reason}`);
  }

  private evaluate(node: string): void {
    const ready = this.isReady(node);
    if (this.stored.get(node) === ready || !this.stored.has(node)) return;
    this.stored.set(node, ready);
    const at = ready ? this.opts.clock.now() : this.wentSilentAt(node);
    if (ready) this.notReadySince.delete(node);
    else this.notReadySince.set(node, at);
    this.report(node, undefined, at);
    this.log.info({ node, ready }, ready ? 'node is Ready' : 'node is NotReady');
    this.opts.onNodeEvent?.(node, ready ? 'ready' : 'not-ready');
  }

  /** The node's target revision and the one it last said it applied, when both are known. */
  private revisions(node: string, l: Live | undefined): { target: number; applied: number } | undefined {
    const target = this.opts.targetRevision?.(node);
    const applied = l?.status?.observedRevision;
    return target === undefined || applied === undefined ? undefined : { target, applied };
  }

  private revisionsKey(node: string, l: Live): string | undefined {
    const r = this.revisions(node, l);
    return r && `${r.target}/${r.applied}`;
  }

  /** Hands a Node object's readiness, revisions (and facts, when they changed) to reportNode. */
  private report(node: string, facts: NodeStatus['facts'] | undefined, flippedAt?: number): void {
    const l = this.live.get(node);
    const ready = this.isReady(node);
    const since = flippedAt ?? (ready ? this.opts.clock.now() : (this.notReadySince.get(node) ?? this.opts.clock.now()));
    const revisions = this.revisions(node, l);
    if (l) l.reportedRevisions = revisions && `${revisions.target}/${revisions.applied}`;
    this.opts.reportNode?.(node, { ready, since, ...(l?.lastStatusMs !== undefined ? { lastReportAt: l.lastStatusMs } : {}), ...(revisions ? { revisions } : {}) }, facts ?? l?.status?.facts);
  }

  /**
   * When a node stopped being Ready: its Last Will (now), else the moment its grace ran out,
   * not the later sweep that noticed it, so eviction timing does not depend on the sweep.
   */
  private wentSilentAt(node: string): number {
    const now = this.opts.clock.now();
    const l = this.live.get(node);
    if (l?.online === false) return now;
    const last = l?.lastStatusMs ?? this.startedMs;
    return Math.min(now, last + this.timeoutMs);
  }

  private onStoreChange(change: StoreChange): void {
    for (const op of change.ops) {
      if (!op.key.startsWith(NODE_PREFIX)) continue;
      const node = op.key.slice(NODE_PREFIX.length);
      if (op.type === 'delete') {
        this.stored.delete(node);
        this.labelNotes.forget(node);
        this.live.delete(node);
        this.notReadySince.delete(node);
      } else if (!this.stored.has(node)) {
        // A node that just joined starts NotReady until it reports.
        const found = storedReadiness(op.value);
        if (!found) continue;
        this.stored.set(node, found.ready);
      }
    }
  }
}

/** What the controllers read of a status besides facts: its pods and deferred updates. */
function podsKey(status: NodeStatus): string {
  return JSON.stringify([status.pods, status.deferred ?? []]);
}
