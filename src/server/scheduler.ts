/**
 * PURE scheduler: (apps, nodes, current assignments) → which pods to create and which to
 * delete. No I/O, no clock, no randomness of its own (names come from `nameSuffix`), so the
 * same input always gives the same answer and tests can assert exact lists.
 *
 * Stability first: a pod that sits on a node that can still hold it stays there. Nothing is
 * moved to rebalance; edge links are slow and metered, and every move is an image pull and a
 * restart on a small board. The one move is eviction (docs/reliability.md): a Deployment pod
 * whose node has been NotReady longer than the eviction timeout is re-created elsewhere,
 * unless so many nodes are NotReady at once that the server is more likely the one cut off.
 */
import type { App, PodAssignment } from '../core/model.js';
import { ErrorCode, GroveError } from '../core/errors.js';
import { parseDurationSeconds } from '../core/quantity.js';

export interface NodeFactsView {
  arch?: string;
  memoryAvailableBytes?: number;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  cordoned: boolean;
  ready: boolean;
  /**
   * ISO time the node went from Ready to NotReady; absent while Ready and for a node that has
   * never been Ready (joined, agent not up yet: pods may be placed there and wait for it).
   */
  notReadySince?: string;
  /** Absent until the node has reported; unknown facts never make a node ineligible. */
  facts?: NodeFactsView;
}

/** Hook: may this app run on this node's CPU architecture? */
export type ArchCompatible = (app: App, node: NodeView) => boolean;

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
}

export interface ScheduleResult {
  create: PodAssignment[];
  /** Names of pods to delete. */
  delete: string[];
  /** Pods deleted because their node was NotReady too long (also listed in delete). */
  evicted: string[];
  /** Set when the partition rule holds evictions back: how many nodes are NotReady, of how many. */
  evictionsPaused?: { notReady: number; total: number };
  /** ISO time of the next eviction that falls due if nothing changes: when to schedule again. */
  nextEvictionAt?: string;
}

export const EVICTION_TIMEOUT_ANNOTATION = 'grove.io/eviction-timeout';
export const DEFAULT_EVICTION_TIMEOUT_MS = 5 * 60_000;
/** More than this share of nodes NotReady at once pauses evictions (likely a partition). */
export const PARTITION_THRESHOLD = 0.55;

/**
 * The app's eviction timeout: its grove.io/eviction-timeout annotation ("90s", "10m") when
 * valid, else the cluster default. Validation rejects bad values at apply; one that slipped
 * in (older server) falls back rather than failing the whole pass.
 */
export function evictionTimeoutMs(app: App, fallbackMs: number): number {
  const raw = app.meta.annotations[EVICTION_TIMEOUT_ANNOTATION] ?? app.spec.template.annotations[EVICTION_TIMEOUT_ANNOTATION];
  if (raw === undefined) return fallbackMs;
  try {
    return parseDurationSeconds(raw, EVICTION_TIMEOUT_ANNOTATION) * 1000;
  } catch {
    return fallbackMs;
  }
}

/** Whether a node takes new pods: Ready, or never Ready yet (it has not failed, it is coming). */
export function acceptsNewPods(node: NodeView): boolean {
  return node.ready || node.notReadySince === undefined;
}

export const ARCH_ANNOTATION = 'grove.io/arch';

const ARCH_ALIASES: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', armhf: 'arm' };

function normArch(arch: string): string {
  const a = arch.trim().toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

/**
 * Default arch rule. The image's platforms are not known at schedule time (the node resolves
 * the manifest list when it pulls), so an app is only restricted when it says so with the
 * grove.io/arch annotation ("arm64" or "arm64,arm") and the node has reported its arch.
 */
export const defaultArchCompatible: ArchCompatible = (app, node) => {
  const wanted = app.spec.template.annotations[ARCH_ANNOTATION] ?? app.meta.annotations[ARCH_ANNOTATION];
  if (!wanted || !node.facts?.arch) return true;
  const arch = normArch(node.facts.arch);
  return wanted.split(',').some((w) => normArch(w) === arch);
};

/** Memory the scheduler reserves for one pod of the app: requests, else limits, else 0. */
export function appMemoryRequest(app: App): number {
  let sum = 0;
  for (const c of app.spec.template.containers) sum += c.resources.requestMemoryBytes ?? c.resources.memoryBytes ?? 0;
  return sum;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Oldest first: createdAt, then name (names are random, but the order must be total). */
function oldestFirst(a: PodAssignment, b: PodAssignment): number {
  const ca = a.meta.createdAt ?? '';
  const cb = b.meta.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0;
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function schedule(input: ScheduleInput): ScheduleResult {
  return new Pass(input).run();
}

/** One scheduling pass; holds the working set so the rules below read as prose. */
class Pass {
  private readonly live = new Map<string, PodAssignment>();
  /** live, by node: memory checks ask for a node's pods once per placement. */
  private readonly liveOnNode = new Map<string, Map<string, PodAssignment>>();
  private readonly taken = new Set<string>();
  private readonly nodes: NodeView[];
  private readonly nodeByName = new Map<string, NodeView>();
  private readonly appByName = new Map<string, App>();
  private readonly archOk: ArchCompatible;
  private readonly result: ScheduleResult = { create: [], delete: [], evicted: [] };
  private readonly nowMs: number | undefined;
  private readonly evictionsAllowed: boolean;
  private nextEvictionMs: number | undefined;

  constructor(private readonly input: ScheduleInput) {
    this.nodes = [...input.nodes].sort(byName);
    for (const n of this.nodes) this.nodeByName.set(n.name, n);
    for (const a of input.apps) this.appByName.set(a.meta.name, a);
    for (const p of input.assignments) {
      this.track(p);
      this.taken.add(p.meta.name);
    }
    this.archOk = input.archCompatible ?? defaultArchCompatible;
    const parsed = input.now === undefined ? NaN : Date.parse(input.now);
    this.nowMs = Number.isFinite(parsed) ? parsed : undefined;
    const notReady = this.nodes.filter((n) => !n.ready).length;
    this.evictionsAllowed = notReady <= PARTITION_THRESHOLD * this.nodes.length;
    if (!this.evictionsAllowed) this.result.evictionsPaused = { notReady, total: this.nodes.length };
  }

  run(): ScheduleResult {
    // Pods whose app or node is gone go first, so they free room for the rest.
    for (const p of [...this.live.values()].sort(oldestFirst)) {
      if (!this.appByName.has(p.app) || !this.nodeByName.has(p.node)) this.remove(p);
    }
    const apps = [...this.input.apps].sort((a, b) => byName(a.meta, b.meta));
    for (const app of apps) {
      const hash = this.input.templateHash(app);
      // A node that no longer matches the selector (labels changed) or the arch cannot keep
      // the pod. Cordon and memory only gate new placements, as `kubectl cordon` does.
      for (const p of this.podsOf(app.meta.name)) {
        if (!this.canKeep(app, this.nodeByName.get(p.node)!)) this.remove(p);
      }
      if (app.spec.kind === 'DaemonSet') this.daemonSet(app, hash);
      else this.deployment(app, hash);
    }
    if (this.nextEvictionMs !== undefined) this.result.nextEvictionAt = new Date(this.nextEvictionMs).toISOString();
    return this.result;
  }

  /**
   * Moves the app's pods off nodes NotReady longer than its timeout: each is deleted only when
   * a replacement can be placed right now, so a pod is moved, never just dropped (with nowhere
   * to go it stays, and runs on if its node comes back). DaemonSets never come here.
   */
  private evict(app: App, hash: string): void {
    if (this.nowMs === undefined || !this.evictionsAllowed) return;
    const timeout = evictionTimeoutMs(app, this.input.evictionTimeoutMs ?? DEFAULT_EVICTION_TIMEOUT_MS);
    for (const p of this.podsOf(app.meta.name).sort(oldestFirst)) {
      const node = this.nodeByName.get(p.node)!;
      if (node.ready || node.notReadySince === undefined) continue;
      const since = Date.parse(node.notReadySince);
      if (!Number.isFinite(since)) continue;
      const due = since + timeout;
      if (this.nowMs < due) {
        if (this.nextEvictionMs === undefined || due < this.nextEvictionMs) this.nextEvictionMs = due;
        continue;
      }
      const target = this.bestNodeFor(app);
      if (!target) continue;
      this.remove(p);
      this.result.evicted.push(p.meta.name);
      this.create(app, hash, target.name);
    }
  }

  private deployment(app: App, hash: string): void {
    const replicas = app.spec.replicas ?? 1;
    this.evict(app, hash);
    let pods = this.podsOf(app.meta.name);
    while (pods.length > replicas) {
      this.remove(this.scaleDownVictim(pods));
      pods = this.podsOf(app.meta.name);
    }
    let deficit = replicas - pods.length;
    for (const p of pods.sort(oldestFirst)) {
      if (p.templateHash === hash) continue;
      if (!this.replace(app, hash, p)) deficit++;
    }
    for (; deficit > 0; deficit--) {
      const node = this.bestNodeFor(app);
      if (!node) break; // Nowhere fits: the pod stays unscheduled until something changes.
      this.create(app, hash, node.name);
    }
  }

  private daemonSet(app: App, hash: string): void {
    // Grouped once: scanning every pod for every node is O(nodes²), minutes for 10,000 nodes.
    // Only the current node's pods change inside the loop, so the groups stay right.
    const byNode = new Map<string, PodAssignment[]>();
    for (const p of this.podsOf(app.meta.name)) {
      const list = byNode.get(p.node);
      if (list) list.push(p);
      else byNode.set(p.node, [p]);
    }
    for (const node of this.nodes) {
      const here = byNode.get(node.name) ?? [];
      if (here.length === 0) {
        if (this.canPlace(app, node)) this.create(app, hash, node.name);
        continue;
      }
      // One per node: keep the oldest pod already on the current template, else the oldest.
      here.sort(oldestFirst);
      const keep = here.find((p) => p.templateHash === hash) ?? here[0]!;
      for (const p of here) if (p !== keep) this.remove(p);
      if (keep.templateHash !== hash) this.replace(app, hash, keep);
    }
  }

  /**
   * Swaps an outdated pod for one on the current template on the same node (no rolling update
   * yet). Allowed on a cordoned node: cordon stops new placements, an update is not one. The
   * new template must fit in memory once the old pod's reservation is released; when it does
   * not, the pod is only deleted and the caller decides (a Deployment places it elsewhere).
   */
  private replace(app: App, hash: string, old: PodAssignment): boolean {
    this.remove(old);
    const node = this.nodeByName.get(old.node)!;
    if (!this.fits(app, node)) return false;
    this.create(app, hash, node.name);
    return true;
  }

  /**
   * Surplus goes first from NotReady nodes (newest first, then by name): those copies may be
   * gone already, the ones on Ready nodes are known to run. Otherwise the node with the most
   * pods of this app (then most pods overall), its newest pod.
   */
  private scaleDownVictim(pods: PodAssignment[]): PodAssignment {
    const unready = pods.filter((p) => !this.nodeByName.get(p.node)!.ready).sort(oldestFirst);
    if (unready.length > 0) return unready[unready.length - 1]!;
    const appCount = new Map<string, number>();
    for (const p of pods) appCount.set(p.node, (appCount.get(p.node) ?? 0) + 1);
    let victimNode = '';
    let best: [number, number] = [-1, -1];
    for (const [node, count] of [...appCount].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const total = this.podsOn(node).length;
      if (count > best[0] || (count === best[0] && total > best[1])) {
        victimNode = node;
        best = [count, total];
      }
    }
    const onNode = pods.filter((p) => p.node === victimNode).sort(oldestFirst);
    return onNode[onNode.length - 1]!;
  }

  /** Fewest pods of this app, then fewest pods in total, then name: spreads and is stable. */
  private bestNodeFor(app: App): NodeView | undefined {
    let best: NodeView | undefined;
    let bestKey: [number, number] = [Infinity, Infinity];
    for (const node of this.nodes) {
      if (!this.canPlace(app, node)) continue;
      const onNode = this.podsOn(node.name);
      const key: [number, number] = [onNode.filter((p) => p.app === app.meta.name).length, onNode.length];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = node;
        bestKey = key;
      }
    }
    return best;
  }

  private canKeep(app: App, node: NodeView): boolean {
    return selectorMatches(app.spec.template.nodeSelector, node.labels) && this.archOk(app, node);
  }

  private canPlace(app: App, node: NodeView): boolean {
    return !node.cordoned && acceptsNewPods(node) && this.canKeep(app, node) && this.fits(app, node);
  }

  /**
   * Requested memory must fit in what the node reported available minus what is already
   * reserved there by assigned pods. Conservative on purpose: a running pod's usage shows in
   * the node's figure and its reservation is counted again, which errs towards not packing a
   * 512 MB board to the point of OOM kills.
   */
  private fits(app: App, node: NodeView): boolean {
    const request = appMemoryRequest(app);
    const available = node.facts?.memoryAvailableBytes;
    if (request === 0 || available === undefined) return true;
    let reserved = 0;
    for (const p of this.podsOn(node.name)) {
      const other = this.appByName.get(p.app);
      if (other) reserved += appMemoryRequest(other);
    }
    return request <= available - reserved;
  }

  private podsOf(app: string): PodAssignment[] {
    return [...this.live.values()].filter((p) => p.app === app);
  }

  private podsOn(node: string): PodAssignment[] {
    return [...(this.liveOnNode.get(node)?.values() ?? [])];
  }

  private track(p: PodAssignment): void {
    this.live.set(p.meta.name, p);
    let here = this.liveOnNode.get(p.node);
    if (!here) this.liveOnNode.set(p.node, (here = new Map()));
    here.set(p.meta.name, p);
  }

  private remove(p: PodAssignment): void {
    this.live.delete(p.meta.name);
    this.liveOnNode.get(p.node)?.delete(p.meta.name);
    this.result.delete.push(p.meta.name);
  }

  private create(app: App, hash: string, node: string): void {
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
      node,
      templateHash: hash,
    };
    this.track(pod);
    this.result.create.push(pod);
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
