/**
 * The reconcile loop: store changes and node events → schedule → commit assignment changes →
 * per-node targets → publish (retained, QoS 1) the ones that changed.
 *
 * Revisions: a node's target revision is the store revision at the moment it changed, and never
 * less than the last one published + 1, so it only moves forward even across restarts (the last
 * published {revision, checksum} per node is kept under targets/<node>). An unchanged target is
 * never given a new revision: agents would see a "new" target and the store would be written
 * for nothing.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import type { App, AppRevision, PodAssignment, RolloutRecord } from '../core/model.js';
import { GROVE_PREFIX } from '../core/keys.js';
import { topicsFor } from '../core/topics.js';
import { encodeMessage, makeNodeTarget, podsChecksum } from '../core/wire.js';
import type { PodTarget } from '../core/wire-types.js';
import type { Store, StoreChange, StoreOp } from '../store/store.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Mutex } from './mutex.js';
import { keyFor, PREFIX } from './resources.js';
import { indexRevisions, pruneRevisions, recordRevisions, REVISION_PREFIX, ROLLOUT_PREFIX, templateLookup } from './revisions.js';
import { trackRollouts } from './rollouts.js';
import { schedule, type ArchCompatible, type NodeView, type RolloutProgress } from './scheduler.js';
import type { StoredNode } from './status-cache.js';
import { buildNodePods, indexApps, templateHash } from './targets.js';
import { CONFIG_RECORD_PREFIX, type ConfigDistributor, type ConfigPublication } from './config-distributor.js';
import { NODE_KEY_PREFIX } from './node-keys.js';

export const DEFAULT_DEBOUNCE_MS = 20;
/**
 * While pods are Pending, a pass runs at least this often: what frees a node's memory (its
 * reported figure) does not wake the controller by itself.
 */
export const PENDING_RETRY_MS = 30_000;

/** What was last published to a node, stored under targets/<node>. */
export interface TargetRecord {
  revision: number;
  checksum: string;
  /** Kept so a re-publish after a restart is byte-identical to the original. */
  issuedAt: string;
}

export interface ControllerOptions {
  store: Store;
  cluster: string;
  logger: Logger;
  clock: Clock;
  mutex: Mutex;
  /** Publishes retained, QoS 1; an empty payload clears the retained message. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  /** Scheduler's view of a node: the record plus what the node last reported. */
  nodeView: (record: StoredNode) => NodeView;
  debounceMs?: number;
  /** Passed to the scheduler (default 5 min). */
  evictionTimeoutMs?: number;
  /** How often a pass runs at least while pods are Pending (default PENDING_RETRY_MS). */
  pendingRetryMs?: number;
  nameSuffix?: () => string;
  archCompatible?: ArchCompatible;
  /** Pods their nodes report ready (rolling updates wait for them); absent = all count as ready. */
  availablePods?: () => ReadonlySet<string>;
  /** Apps whose update a node holds back (window, lock): their rollout deadline does not run. */
  deferredApps?: () => ReadonlySet<string>;
  /** Per-node ConfigMap/Secret bundles, planned in the same pass as targets (config-distributor.ts). */
  configs?: ConfigDistributor;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** Keys whose changes cannot affect scheduling (including the controller's own bookkeeping). */
const IGNORED_PREFIXES = [GROVE_PREFIX, PREFIX.Target, PREFIX.Token, REVISION_PREFIX, ROLLOUT_PREFIX, CONFIG_RECORD_PREFIX, NODE_KEY_PREFIX];

interface Publication {
  node: string;
  record: TargetRecord;
  pods: PodTarget[];
}

export class Controller {
  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly nameSuffix: () => string;
  private readonly last = new Map<string, TargetRecord>();
  /** Each app's rollout figures from the last pass (what `grove rollout status` shows). */
  private progress = new Map<string, RolloutProgress>();
  /** Why DaemonSets run on fewer nodes than they match, from the last pass (`describe app`). */
  private daemonSetNotes = new Map<string, string>();
  private unwatch: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private republishNext = false;
  /** Nodes whose current target goes out again in the next pass (see republishNode). */
  private republishNodes = new Set<string>();
  /** Nodes whose target gets a new revision in the next pass even if unchanged (see reissueNode). */
  private reissueNodes = new Set<string>();
  private stopped = true;
  /** Wakes a pass when the next eviction or rollout deadline falls due (nothing else changes then). */
  private wakeTimer: { handle: TimerHandle; at: string } | undefined;
  /** Whether the partition rule held evictions back in the last pass (warned once per episode). */
  private evictionsPaused = false;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.logger.child({ component: 'controller' });
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.nameSuffix = opts.nameSuffix ?? randomSuffix;
  }

  /** Loads what was published before, then reconciles and re-publishes every node's target. */
  async start(): Promise<void> {
    this.stopped = false;
    for (const e of await this.opts.store.list<TargetRecord>(PREFIX.Target)) this.last.set(e.key.slice(PREFIX.Target.length), e.value);
    this.unwatch = this.opts.store.watch((change) => this.onStoreChange(change));
    this.republishNext = true;
    this.kick();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.setWakeTimer(undefined);
    await this.running;
  }

  /** Something outside the store changed (node readiness or facts): reconcile soon. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (!this.timer) {
      // Debounced: an apply of ten resources or a burst of node events costs one pass.
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.debounceMs);
    }
  }

  /** Publishes every node's current target again, e.g. after reconnecting to a broker that lost them. */
  /**
   * Publishes one node's current target again (same revision, nothing written): for a node
   * that keeps reporting an older revision, as when a broker lost the retained message or a
   * subscription across a failover.
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

  republishAll(): void {
    this.republishNext = true;
    this.nudge();
  }

  /**
   * Resolves when no pass is pending or running (tests, shutdown). A pass still waiting out its
   * debounce runs now: waiting for it would tie callers to the clock (a test's may never move).
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.running) {
        await this.running;
      } else if (this.timer) {
        this.opts.clock.clearTimeout(this.timer);
        this.timer = undefined;
        this.kick();
        if (!this.running) return;
      } else {
        return;
      }
    }
  }

  rolloutProgress(app: string): RolloutProgress | undefined {
    return this.progress.get(app);
  }

  /** For a DaemonSet some matching node runs no pod of: why ("0 nodes match nodeSelector k=v"). */
  daemonSetNote(app: string): string | undefined {
    return this.daemonSetNotes.get(app);
  }

  /** Revision of the target last published to `node`, if any. */
  targetRevision(node: string): number | undefined {
    return this.last.get(node)?.revision;
  }

  private onStoreChange(change: StoreChange): void {
    if (change.ops.every((op) => IGNORED_PREFIXES.some((p) => op.key.startsWith(p)))) return;
    this.nudge();
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = (async () => {
      do {
        this.dirty = false;
        const republish = this.republishNext;
        this.republishNext = false;
        try {
          await this.pass(republish);
        } catch (err) {
          // The next change or node event retries; a pass has no partial effect worth undoing.
          this.log.error({ err: errorMessage(err) }, 'reconcile failed');
          if (republish) this.republishNext = true;
        }
      } while (this.dirty && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async pass(republishAll: boolean): Promise<void> {
    const { publications, configs } = await this.opts.mutex.run(() => this.plan(republishAll));
    // Config bundles first: a pod that needs a Secret should find it when its target arrives.
    await this.opts.configs?.publish(configs);
    const results = await Promise.allSettled(publications.map((p) => this.publish(p)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error({ node: publications[i]!.node, err: errorMessage(r.reason) }, 'publishing target failed');
    });
  }

  /** Under the store mutex: schedule, commit assignments, decide and record target revisions. */
  private async plan(republishAll: boolean): Promise<{ publications: Publication[]; configs: ConfigPublication[] }> {
    const { store } = this.opts;
    const apps = (await store.list<App>(PREFIX.App)).map((e) => e.value);
    const nodes = (await store.list<StoredNode>(PREFIX.Node)).map((e) => e.value);
    const assignments = (await store.list<PodAssignment>(PREFIX.Pod)).map((e) => e.value);
    const revisions = indexRevisions((await store.list<AppRevision>(REVISION_PREFIX)).map((e) => e.value));
    const records = new Map((await store.list<RolloutRecord>(ROLLOUT_PREFIX)).map((e) => [e.value.app, e.value]));
    const now = new Date(this.opts.clock.now()).toISOString();

    const revisionOps = recordRevisions(apps, revisions, records, templateHash, now);
    const result = schedule({
      apps,
      nodes: nodes.map(this.opts.nodeView),
      assignments,
      templateHash,
      nameSuffix: this.nameSuffix,
      now,
      ...(this.opts.evictionTimeoutMs !== undefined ? { evictionTimeoutMs: this.opts.evictionTimeoutMs } : {}),
      ...(this.opts.archCompatible ? { archCompatible: this.opts.archCompatible } : {}),
      ...(this.opts.availablePods ? { available: this.opts.availablePods() } : {}),
    });
    this.notePartition(result.evictionsPaused);
    if (result.evicted.length > 0) this.log.warn({ evicted: result.evicted }, 'pods evicted from NotReady nodes');
    this.progress = new Map(result.rollouts.map((p) => [p.app, p]));
    this.daemonSetNotes = new Map(result.daemonSetNotes.map((n) => [n.app, n.message]));
    const rollouts = trackRollouts({ apps, progress: result.rollouts, records, revisions, now, ...(this.opts.deferredApps ? { deferred: this.opts.deferredApps() } : {}) });
    for (const f of rollouts.failed) this.log.warn({ app: f.app, revision: f.revision }, `rollout failed: ${f.message}`);
    for (const op of rollouts.ops) {
      if (op.type === 'put') records.set((op.value as RolloutRecord).app, op.value as RolloutRecord);
      else records.delete(op.key.slice(ROLLOUT_PREFIX.length));
    }

    const gone = new Set([...result.delete, ...result.update.map((p) => p.meta.name)]);
    const current = [...assignments.filter((p) => !gone.has(p.meta.name)), ...result.update, ...result.create];
    const pending = current.filter((p) => p.node === undefined);
    const retryAt = pending.length > 0 ? new Date(Date.parse(now) + (this.opts.pendingRetryMs ?? PENDING_RETRY_MS)).toISOString() : undefined;
    this.setWakeTimer(earliest(earliest(result.nextEvictionAt, rollouts.nextDeadlineAt), retryAt));
    const liveHashes = new Map<string, Set<string>>();
    for (const p of current) liveHashes.set(p.app, (liveHashes.get(p.app) ?? new Set()).add(p.templateHash));
    const ops: StoreOp[] = [
      ...result.delete.map((name): StoreOp => ({ type: 'delete', key: keyFor('Pod', name) })),
      ...[...result.create, ...result.update].map((p): StoreOp => ({ type: 'put', key: keyFor('Pod', p.meta.name), value: p })),
      ...revisionOps,
      ...rollouts.ops,
      ...rollouts.rollbacks.map((a): StoreOp => ({ type: 'put', key: keyFor('App', a.meta.name), value: a })),
      ...pruneRevisions(apps, revisions, liveHashes, records, templateHash),
    ];
    // One commit: pods, revisions and rollout state never disagree after a crash.
    if (ops.length > 0) await store.commit(ops);
    const placed = [...result.create, ...result.update].filter((p) => p.node !== undefined);
    if (placed.length > 0 || result.delete.length > 0) {
      this.log.info({ placed: placed.map((p) => `${p.meta.name}@${p.node}`), deleted: result.delete }, 'pods scheduled');
    }
    // Logged when a pod becomes Pending or its reason changes (that is when it is written).
    for (const p of [...result.create, ...result.update]) {
      if (p.node === undefined) this.log.warn({ pod: p.meta.name, app: p.app, reason: p.unschedulable }, 'pod unschedulable');
    }

    const revision = store.revision();
    const publications: Publication[] = [];
    const recordOps: StoreOp[] = [];
    const known = new Set<string>();
    // Per plan, not per node: both are O(nodes) and a plan visits every node.
    const appIndex = indexApps(apps);
    const olderTemplate = templateLookup(revisions);
    const byNode = new Map<string, PodAssignment[]>();
    // Pending pods have no node: no target (and no config bundle) ever lists them.
    for (const a of current) {
      if (a.node === undefined) continue;
      const list = byNode.get(a.node);
      if (list) list.push(a);
      else byNode.set(a.node, [a]);
    }
    for (const node of nodes) {
      const name = node.meta.name;
      known.add(name);
      const pods = buildNodePods(name, byNode.get(name) ?? [], appIndex, olderTemplate);
      const checksum = podsChecksum(pods);
      const last = this.last.get(name);
      if (last && last.checksum === checksum && !this.reissueNodes.has(name)) {
        if (republishAll || this.republishNodes.has(name)) publications.push({ node: name, record: last, pods });
        continue;
      }
      const record: TargetRecord = { revision: Math.max(revision, (last?.revision ?? 0) + 1), checksum, issuedAt: now };
      recordOps.push({ type: 'put', key: keyFor('Target', name), value: record });
      publications.push({ node: name, record, pods });
    }
    const removed = [...this.last.keys()].filter((n) => !known.has(n));
    for (const n of removed) recordOps.push({ type: 'delete', key: keyFor('Target', n) });
    // Recorded before publishing: if we die in between, the restart re-publishes this exact
    // target (same revision) instead of skipping it.
    if (recordOps.length > 0) await store.commit(recordOps);
    for (const p of publications) this.last.set(p.node, p.record);
    for (const n of removed) {
      this.last.delete(n);
      // A removed node's retained target is cleared so nothing replays it to a re-used name.
      publications.push({ node: n, record: { revision: 0, checksum: '', issuedAt: now }, pods: [] });
    }
    this.republishNodes.clear();
    this.reissueNodes.clear();
    const configs = this.opts.configs ? await this.opts.configs.plan({ nodes: [...known], byNode, apps: appIndex, olderTemplate, republishAll, now }) : [];
    return { publications, configs };
  }

  private notePartition(paused: { notReady: number; total: number } | undefined): void {
    if (paused && !this.evictionsPaused) {
      this.log.warn(paused, `${paused.notReady} of ${paused.total} nodes NotReady: evictions paused (likely a partition of the server)`);
    } else if (!paused && this.evictionsPaused) {
      this.log.info('evictions resumed');
    }
    this.evictionsPaused = paused !== undefined;
  }

  private setWakeTimer(at: string | undefined): void {
    if (this.wakeTimer?.at === at) return;
    if (this.wakeTimer) this.opts.clock.clearTimeout(this.wakeTimer.handle);
    this.wakeTimer = undefined;
    if (at === undefined || this.stopped) return;
    // The scheduler's "now" is the injected clock's; the wait is measured on the same clock.
    const handle = this.opts.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.nudge();
    }, Date.parse(at) - this.opts.clock.now());
    this.wakeTimer = { handle, at };
  }

  private async publish(p: Publication): Promise<void> {
    const topic = topicsFor(this.opts.cluster, p.node).target;
    if (p.record.checksum === '') return this.opts.publish(topic, Buffer.alloc(0));
    const target = makeNodeTarget({ cluster: this.opts.cluster, node: p.node, revision: p.record.revision, pods: p.pods, issuedAt: p.record.issuedAt });
    await this.opts.publish(topic, encodeMessage(target));
    this.log.debug({ node: p.node, revision: p.record.revision, pods: p.pods.length }, 'target published');
  }
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}
