/**
 * PURE scheduler: (apps, nodes, current assignments) → which pods to create, update and
 * delete. No I/O, no clock, no randomness of its own (names come from `nameSuffix`), so the
 * same input always gives the same answer and tests can assert exact lists.
 *
 * A replica no node can take is still a pod, Pending (no node) with the reason, as in
 * Kubernetes: it counts as one of the app's pods (never available), and it is placed, under its
 * name, in the first pass where a node can take it (scheduler-placement.ts says which can).
 *
 * Stability first: a pod that sits on a node that can still hold it stays there. Nothing is
 * moved to rebalance; edge links are slow and metered, and every move is an image pull and a
 * restart on a small board. The one move is eviction (docs/reliability.md): a Deployment pod
 * whose node has been NotReady longer than the eviction timeout is re-created elsewhere,
 * unless so many nodes are NotReady at once that the server is more likely the one cut off.
 */
import type { App, PodAssignment } from '../core/model.js';
import { ErrorCode, GroveError } from '../core/errors.js';
import {
  hostPortStrategy,
  byName,
  DEFAULT_EVICTION_TIMEOUT_MS,
  defaultArchCompatible,
  evictionTimeoutMs,
  oldestFirst,
  PARTITION_THRESHOLD,
  type ArchCompatible,
  type NodeView,
} from './scheduler-rules.js';
import { isPlaced, Placement, type PlacedPod } from './scheduler-placement.js';
import { resolveStrategy, type ResolvedStrategy } from './update-strategy.js';

export * from './scheduler-rules.js';

export interface ScheduleInput {
  apps: readonly App[];
  nodes: readonly NodeView[];
  assignments: readonly PodAssignment[];
  templateHash: (app: App) => string;
  /** 5 characters [a-z0-9]; called again when a name is already taken. */
  nameSuffix: () => string;
  /**
   * ISO time stamped on new assignments as meta.createdAt (scale-down removes newest first),
   * and the "now" evictions are judged against (no evictions without it).
   */
  now?: string;
  /** How long a node may be NotReady before its Deployment pods move (default 5 min). */
  evictionTimeoutMs?: number;
  archCompatible?: ArchCompatible;
  /**
   * Names of pods whose node reports them ready on their current template: what rolling
   * updates count as available. Absent = every existing pod counts as available.
   */
  available?: ReadonlySet<string>;
}

/** Where an app's rollout stands after this pass (counts include this pass's changes). */
export interface RolloutProgress {
  app: string;
  templateHash: string;
  /** Pods wanted: replicas, or for a DaemonSet the Ready nodes that should run one. */
  desired: number;
  /** Pods on the current template. */
  updated: number;
  /** Of those, available. */
  updatedAvailable: number;
  /** Pods of the app, any template. */
  total: number;
  complete: boolean;
}

export interface ScheduleResult {
  /** New pods: placed on a node, or Pending (no node, `unschedulable` set). */
  create: PodAssignment[];
  /**
   * Existing pods whose record changes: a Pending pod placed on a node (same name), or whose
   * reason changed. An unchanged Pending pod is not listed: nothing is written for it.
   */
  update: PodAssignment[];
  /** Names of pods to delete. */
  delete: string[];
  /** Pods deleted because their node was NotReady too long (also listed in delete). */
  evicted: string[];
  /** Set when the partition rule holds evictions back: how many nodes are NotReady, of how many. */
  evictionsPaused?: { notReady: number; total: number };
  /** ISO time of the next eviction that falls due if nothing changes: when to schedule again. */
  nextEvictionAt?: string;
  /** One entry per app, in name order. */
  rollouts: RolloutProgress[];
  /** DaemonSets some matching node runs no pod of, and why (`describe app`), in name order. */
  daemonSetNotes: { app: string; message: string }[];
}

export function schedule(input: ScheduleInput): ScheduleResult {
  return new Pass(input).run();
}

/** One scheduling pass; holds the working set so the rules below read as prose. */
class Pass {
  /** Every pod, placed or Pending; the placed ones are also indexed by node in `placement`. */
  private readonly live = new Map<string, PodAssignment>();
  private readonly taken = new Set<string>();
  private readonly nodes: NodeView[];
  private readonly nodeByName = new Map<string, NodeView>();
  private readonly appByName = new Map<string, App>();
  private readonly placement: Placement;
  private readonly result: ScheduleResult = { create: [], update: [], delete: [], evicted: [], rollouts: [], daemonSetNotes: [] };
  /** Pods created / changed in this pass, by name (a later change in the pass replaces the entry). */
  private readonly created = new Map<string, PodAssignment>();
  private readonly updated = new Map<string, PodAssignment>();
  /** Pods created in this pass: never available yet. */
  private readonly fresh = new Set<string>();
  private readonly nowMs: number | undefined;
  private readonly evictionsAllowed: boolean;
  private nextEvictionMs: number | undefined;

  constructor(private readonly input: ScheduleInput) {
    this.nodes = [...input.nodes].sort(byName);
    for (const n of this.nodes) this.nodeByName.set(n.name, n);
    for (const a of input.apps) this.appByName.set(a.meta.name, a);
    this.placement = new Placement(this.nodes, this.appByName, input.archCompatible ?? defaultArchCompatible);
    for (const p of input.assignments) {
      this.track(p);
      this.taken.add(p.meta.name);
    }
    const parsed = input.now === undefined ? NaN : Date.parse(input.now);
    this.nowMs = Number.isFinite(parsed) ? parsed : undefined;
    const notReady = this.nodes.filter((n) => !n.ready).length;
    this.evictionsAllowed = notReady <= PARTITION_THRESHOLD * this.nodes.length;
    if (!this.evictionsAllowed) this.result.evictionsPaused = { notReady, total: this.nodes.length };
  }

  run(): ScheduleResult {
    // Pods whose app or node is gone go first, so they free room for the rest.
    for (const p of [...this.live.values()].sort(oldestFirst)) {
      if (!this.appByName.has(p.app) || (isPlaced(p) && !this.nodeByName.has(p.node))) this.remove(p);
    }
    const apps = [...this.input.apps].sort((a, b) => byName(a.meta, b.meta));
    for (const app of apps) {
      const hash = this.input.templateHash(app);
      // A node that no longer matches the selector (labels changed) or the arch cannot keep
      // the pod. Cordon, memory and hostPorts only gate new placements, as `kubectl cordon` does.
      for (const p of this.placedOf(app.meta.name)) {
        if (!this.placement.canKeep(app, this.nodeByName.get(p.node)!)) this.remove(p);
      }
      if (app.spec.kind === 'DaemonSet') this.daemonSet(app, hash);
      else {
        if (app.spec.kind === 'Job' || app.spec.kind === 'CronJob') this.batch(app, hash);
        else this.deployment(app, hash);
        this.settlePending(app, hash);
      }
    }
    if (this.nextEvictionMs !== undefined) this.result.nextEvictionAt = new Date(this.nextEvictionMs).toISOString();
    this.result.create = [...this.created.values()];
    this.result.update = [...this.updated.values()];
    return this.result;
  }

  /**
   * After an app's turn: its Pending pods of the current template go to any node that can take
   * them now (room freed during the turn), and the rest get the reason no node can, rewritten
   * only when it changed.
   */
  private settlePending(app: App, hash: string): void {
    this.bindPending(app, hash);
    const pending = this.podsOf(app.meta.name).filter((p) => !isPlaced(p));
    if (pending.length === 0) return;
    const reason = this.placement.explain(app);
    for (const p of pending) if (p.unschedulable !== reason) this.change({ ...p, unschedulable: reason });
  }

  /** Places the app's Pending pods of the current template (oldest first) while a node can take one. */
  private bindPending(app: App, hash: string): void {
    const pending = this.podsOf(app.meta.name).filter((p) => !isPlaced(p) && p.templateHash === hash);
    for (const p of pending.sort(oldestFirst)) {
      const node = this.placement.bestNodeFor(app);
      if (!node) return;
      const { unschedulable: _reason, ...rest } = p;
      this.change({ ...rest, node: node.name });
      // Just placed: not available until its node says so.
      this.fresh.add(p.meta.name);
    }
  }

  /**
   * Moves the app's pods off nodes NotReady longer than its timeout: each is deleted only when
   * a replacement can be placed right now, so a pod is moved, never just dropped (with nowhere
   * to go it stays, and runs on if its node comes back). DaemonSets never come here.
   */
  private evict(app: App, hash: string): void {
    if (this.nowMs === undefined || !this.evictionsAllowed) return;
    const timeout = evictionTimeoutMs(app, this.input.evictionTimeoutMs ?? DEFAULT_EVICTION_TIMEOUT_MS);
    for (const p of this.placedOf(app.meta.name).sort(oldestFirst)) {
      const node = this.nodeByName.get(p.node)!;
      if (node.ready || node.notReadySince === undefined) continue;
      const since = Date.parse(node.notReadySince);
      if (!Number.isFinite(since)) continue;
      const due = since + timeout;
      if (this.nowMs < due) {
        if (this.nextEvictionMs === undefined || due < this.nextEvictionMs) this.nextEvictionMs = due;
        continue;
      }
      const target = this.placement.bestNodeFor(app);
      if (!target) continue;
      this.remove(p);
      this.result.evicted.push(p.meta.name);
      this.create(app, hash, target.name);
    }
  }

  private deployment(app: App, hash: string): void {
    const replicas = app.spec.replicas ?? 1;
    this.evict(app, hash);
    const strategy = hostPortStrategy(app, resolveStrategy(app.spec, replicas));
    const outdated = this.podsOf(app.meta.name).filter((p) => p.templateHash !== hash);
    if (outdated.length === 0) this.scaleTo(app, hash, replicas);
    else if (strategy.type === 'Recreate') {
      // Every old pod goes first; the new ones come in the next pass, once the old are gone.
      for (const p of outdated) this.remove(p);
    } else this.rollDeployment(app, hash, replicas, strategy);
    const pods = this.podsOf(app.meta.name);
    const updated = pods.filter((p) => p.templateHash === hash);
    const updatedAvailable = updated.filter((p) => this.isAvailable(p)).length;
    this.result.rollouts.push({
      app: app.meta.name,
      templateHash: hash,
      desired: replicas,
      updated: updated.length,
      updatedAvailable,
      total: pods.length,
      complete: pods.length === replicas && updated.length === replicas && updatedAvailable === replicas,
    });
  }

  /** Steady state (every pod on the current template): scale down the surplus, place the deficit. */
  private scaleTo(app: App, hash: string, replicas: number): void {
    let pods = this.podsOf(app.meta.name);
    while (pods.length > replicas) {
      this.remove(this.scaleDownVictim(pods));
      pods = this.podsOf(app.meta.name);
    }
    this.scaleUp(app, hash, replicas - pods.length);
  }

  /**
   * Places the app's Pending pods where it can, then adds `count` pods: each on the best node,
   * or Pending once no node can take one (the reason is set when the app's turn ends).
   */
  private scaleUp(app: App, hash: string, count: number): void {
    this.bindPending(app, hash);
    let node = count > 0 ? this.placement.bestNodeFor(app) : undefined;
    for (let n = count; n > 0; n--) {
      this.create(app, hash, node?.name);
      if (node) node = this.placement.bestNodeFor(app);
    }
  }

  /**
   * One step of a Deployment rolling update, as Kubernetes' deployment controller takes it:
   * add new pods while the total stays within replicas + maxSurge, remove old ones while the
   * available pods stay at or above replicas − maxUnavailable (unavailable old pods first, they
   * cost nothing), then add again into the room that freed. A new pod that never becomes
   * available therefore stops the rollout where it is, with the old version still serving.
   */
  private rollDeployment(app: App, hash: string, replicas: number, s: ResolvedStrategy): void {
    const name = app.meta.name;
    const current = (): PodAssignment[] => this.podsOf(name).filter((p) => p.templateHash === hash);
    const old = (): PodAssignment[] => this.podsOf(name).filter((p) => p.templateHash !== hash);
    // Scaled down mid-rollout: surplus new pods go (newest first), then old beyond the surge.
    for (let fresh = current().sort(oldestFirst); fresh.length > replicas; fresh = current().sort(oldestFirst)) this.remove(fresh[fresh.length - 1]!);
    while (this.podsOf(name).length > replicas + s.maxSurge && old().length > 0) this.remove(this.oldVictim(old()));
    const scaleUp = (): void => this.scaleUp(app, hash, Math.min(replicas + s.maxSurge - this.podsOf(name).length, replicas - current().length));
    scaleUp();
    const minAvailable = replicas - s.maxUnavailable;
    const newUnavailable = current().filter((p) => !this.isAvailable(p)).length;
    let budget = this.podsOf(name).length - minAvailable - newUnavailable;
    for (const p of old().filter((p) => !this.isAvailable(p)).sort(oldestFirst)) {
      if (budget <= 0) break;
      this.remove(p);
      budget--;
    }
    let removable = Math.min(budget, this.podsOf(name).filter((p) => this.isAvailable(p)).length - minAvailable);
    for (; removable > 0 && old().length > 0; removable--) this.remove(this.oldVictim(old()));
    scaleUp();
  }

  /** Pending first (they cost nothing), then unavailable, oldest first; else the scale-down victim. */
  private oldVictim(old: PodAssignment[]): PodAssignment {
    const unavailable = old.filter((p) => !this.isAvailable(p)).sort(oldestFirst);
    return unavailable.find((p) => !isPlaced(p)) ?? unavailable[0] ?? this.scaleDownVictim(old);
  }

  /**
   * One pod per eligible node, updated node by node (name order). Pods on NotReady nodes are
   * updated in their target at once and count against nothing: an offline device must not
   * stall a fleet's rollout, and it picks up the new template when it returns. On Ready
   * nodes, maxUnavailable bounds how many nodes are without an available pod at a time; with
   * maxSurge the new pod starts beside the old one, which goes once the new one is available.
   */
  private daemonSet(app: App, hash: string): void {
    const name = app.meta.name;
    // A DaemonSet has a pod per node that can run one, never a Pending one (as in Kubernetes);
    // one left from when the app was another kind goes.
    for (const p of this.podsOf(name)) if (!isPlaced(p)) this.remove(p);
    // Grouped once: fleets have thousands of nodes, and podsOf() walks every pod.
    const byNode = new Map<string, PlacedPod[]>();
    for (const p of this.placedOf(name)) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
    const eligible = this.nodes.filter((n) => byNode.has(n.name) || this.placement.canPlace(app, n));
    const strategy = hostPortStrategy(app, resolveStrategy(app.spec, eligible.filter((n) => n.ready).length));
    const waiting: { node: NodeView; old: PlacedPod }[] = [];
    let unavailable = 0;
    let surging = 0;
    for (const node of eligible) {
      const here = (byNode.get(node.name) ?? []).sort(oldestFirst);
      if (here.length === 0) {
        this.create(app, hash, node.name);
        if (node.ready) unavailable++;
        continue;
      }
      const cur = here.filter((p) => p.templateHash === hash);
      const old = here.filter((p) => p.templateHash !== hash);
      for (const p of [...cur.slice(1), ...old.slice(1)]) this.remove(p);
      if (old[0] && (cur[0] === undefined || this.isAvailable(cur[0]) || !node.ready)) {
        if (cur[0]) this.remove(old[0]);
        else if (!node.ready || !this.isAvailable(old[0])) {
          // Costs no availability: there was none here (or nobody to judge it).
          this.replace(app, hash, old[0]);
          if (node.ready) unavailable++;
        } else waiting.push({ node, old: old[0] });
        continue;
      }
      if (old[0]) surging++; // The new pod runs beside the old one until it is available.
      if (node.ready && ![cur[0], old[0]].some((p) => p !== undefined && this.isAvailable(p))) unavailable++;
    }
    if (strategy.type !== 'OnDelete') {
      for (const { node, old } of waiting) {
        if (strategy.maxSurge > 0) {
          if (surging >= strategy.maxSurge || !this.placement.fits(app, node)) continue;
          this.create(app, hash, node.name);
          surging++;
        } else if (unavailable < strategy.maxUnavailable) {
          this.replace(app, hash, old);
          unavailable++;
        }
      }
    }
    const pods = this.placedOf(name);
    const note = this.placement.daemonSetNote(app, new Set(pods.map((p) => p.node)));
    if (note !== undefined) this.result.daemonSetNotes.push({ app: name, message: note });
    const readyNodes = new Set(eligible.filter((n) => n.ready).map((n) => n.name));
    const onReady = pods.filter((p) => readyNodes.has(p.node));
    const updated = onReady.filter((p) => p.templateHash === hash);
    const updatedAvailable = updated.filter((p) => this.isAvailable(p)).length;
    this.result.rollouts.push({
      app: name,
      templateHash: hash,
      desired: readyNodes.size,
      updated: updated.length,
      updatedAvailable,
      total: pods.length,
      complete: onReady.length === readyNodes.size && updated.length === readyNodes.size && updatedAvailable === readyNodes.size,
    });
  }

  /**
   * Job and CronJob: one pod on one node, which runs the Job's containers to completion (or the
   * CronJob's schedule) itself. Never evicted or rolled: moving a Job that may have finished
   * would run it again; a template change replaces the pod (a new Job).
   */
  private batch(app: App, hash: string): void {
    const pods = this.podsOf(app.meta.name).sort(oldestFirst);
    const keep = pods.find((p) => p.templateHash === hash);
    for (const p of pods) if (p !== keep) this.remove(p);
    this.scaleUp(app, hash, keep ? 0 : 1);
  }

  /**
   * Swaps a pod for one on the current template on the same node. Allowed on a cordoned node:
   * cordon stops new placements, an update is not one. The new template must fit in memory
   * once the old pod's reservation is released; when it does not, the pod is only deleted.
   */
  private replace(app: App, hash: string, old: PlacedPod): boolean {
    this.remove(old);
    const node = this.nodeByName.get(old.node)!;
    if (!this.placement.fits(app, node)) return false;
    this.create(app, hash, node.name);
    return true;
  }

  private isAvailable(p: PodAssignment): boolean {
    if (!isPlaced(p) || this.fresh.has(p.meta.name)) return false;
    return this.input.available ? this.input.available.has(p.meta.name) : true;
  }

  /**
   * Surplus goes first from the Pending pods, then from NotReady nodes (newest first, then by
   * name): Pending pods run nowhere, and copies on NotReady nodes may be gone already, while
   * the ones on Ready nodes are known to run. Otherwise the node with the most pods of this app
   * (then most pods overall), its newest pod.
   */
  private scaleDownVictim(pods: PodAssignment[]): PodAssignment {
    const pending = pods.filter((p) => !isPlaced(p)).sort(oldestFirst);
    if (pending.length > 0) return pending[pending.length - 1]!;
    const placed = pods.filter(isPlaced);
    const unready = placed.filter((p) => !this.nodeByName.get(p.node)!.ready).sort(oldestFirst);
    if (unready.length > 0) return unready[unready.length - 1]!;
    const appCount = new Map<string, number>();
    for (const p of placed) appCount.set(p.node, (appCount.get(p.node) ?? 0) + 1);
    let victimNode = '';
    let best: [number, number] = [-1, -1];
    for (const [node, count] of [...appCount].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const total = this.placement.podsOn(node).length;
      if (count > best[0] || (count === best[0] && total > best[1])) {
        victimNode = node;
        best = [count, total];
      }
    }
    const onNode = placed.filter((p) => p.node === victimNode).sort(oldestFirst);
    return onNode[onNode.length - 1]!;
  }

  /** The app's pods, placed and Pending. */
  private podsOf(app: string): PodAssignment[] {
    return [...this.live.values()].filter((p) => p.app === app);
  }

  private placedOf(app: string): PlacedPod[] {
    return this.podsOf(app).filter(isPlaced);
  }

  private track(p: PodAssignment): void {
    this.live.set(p.meta.name, p);
    if (isPlaced(p)) this.placement.add(p);
  }

  private remove(p: PodAssignment): void {
    // The live record, not `p`: it may have been placed since `p` was read.
    this.placement.delete(this.live.get(p.meta.name) ?? p);
    this.live.delete(p.meta.name);
    this.updated.delete(p.meta.name);
    // Created and removed in one pass: it never existed (one commit cannot put and delete a key).
    if (!this.created.delete(p.meta.name)) this.result.delete.push(p.meta.name);
  }

  /** Replaces an existing pod's record (placed, or a new reason): listed as created or updated. */
  private change(p: PodAssignment): void {
    const before = this.live.get(p.meta.name);
    if (before) this.placement.delete(before);
    this.track(p);
    if (this.created.has(p.meta.name)) this.created.set(p.meta.name, p);
    else this.updated.set(p.meta.name, p);
  }

  /** A new pod on `node`, or Pending without one. */
  private create(app: App, hash: string, node: string | undefined): void {
    const name = this.newName(app.meta.name, hash);
    const pod: PodAssignment = {
      kind: 'Pod',
      meta: {
        name,
        labels: { ...app.spec.template.labels },
        annotations: {},
        ...(this.input.now !== undefined ? { createdAt: this.input.now } : {}),
      },
      app: app.meta.name,
      ...(node !== undefined ? { node } : {}),
      templateHash: hash,
    };
    this.track(pod);
    this.fresh.add(name);
    this.created.set(name, pod);
  }

  private newName(app: string, hash: string): string {
    // Names deleted in this pass stay taken too: one commit cannot delete and create one key.
    for (let attempt = 0; attempt < 20; attempt++) {
      const suffix = this.input.nameSuffix();
      if (!/^[a-z0-9]{5}$/.test(suffix)) {
        throw new GroveError(ErrorCode.Internal, `pod name suffix "${suffix}" is not 5 characters [a-z0-9]`);
      }
      // The app part is cut to 50 characters so a pod name stays a DNS label (≤ 63).
      const name = `${app.slice(0, 50).replace(/-+$/, '')}-${hash.slice(0, 6)}-${suffix}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return name;
      }
    }
    throw new GroveError(ErrorCode.Internal, `could not find a free pod name for app ${app}`);
  }
}
