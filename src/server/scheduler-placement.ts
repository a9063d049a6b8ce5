/**
 * PURE: which nodes can take a new pod of an app, which one is best, and — when none can — why,
 * in the words of Kubernetes' FailedScheduling ("0/3 nodes are available: 3 node(s) didn't
 * match Pod's node affinity/selector"). Holds the pods placed on each node during one
 * scheduling pass (scheduler.ts), so memory and hostPorts are judged on the pass's own changes.
 */
import type { App, PodAssignment } from '../core/model.js';
import { acceptsNewPods, appHostPorts, appMemoryRequest, selectorMatches, type ArchCompatible, type NodeView } from './scheduler-rules.js';

/** A pod with a node: what the per-node index holds. */
export type PlacedPod = PodAssignment & { node: string };

export function isPlaced(p: PodAssignment): p is PlacedPod {
  return p.node !== undefined;
}

/**
 * Why a node cannot take a new pod of an app, checked in this order (Kubernetes' filter order):
 * each node is counted once, under the first check it fails.
 */
export const REJECTIONS = ['notReady', 'cordoned', 'selector', 'arch', 'ports', 'memory'] as const;
export type Rejection = (typeof REJECTIONS)[number];

/** "N <text>" per rejection; Kubernetes' own wording where it has one. */
const REJECTION_TEXT: Record<Rejection, string> = {
  notReady: 'node(s) were not ready',
  cordoned: 'node(s) were cordoned',
  selector: "node(s) didn't match Pod's node affinity/selector",
  arch: "node(s) didn't match the app's grove.io/arch",
  ports: "node(s) didn't have free ports for the requested pod ports",
  memory: 'Insufficient memory',
};

/** "3 node(s) didn't match …, 1 node(s) were cordoned": groups in REJECTIONS order. */
export function rejectionsText(counts: ReadonlyMap<Rejection, number>): string {
  return REJECTIONS.filter((r) => (counts.get(r) ?? 0) > 0)
    .map((r) => `${counts.get(r)} ${REJECTION_TEXT[r]}`)
    .join(', ');
}

/** The FailedScheduling message for `total` nodes that each failed a check. */
export function failedSchedulingMessage(total: number, counts: ReadonlyMap<Rejection, number>): string {
  if (total === 0) return '0/0 nodes are available: no node has joined the cluster';
  return `0/${total} nodes are available: ${rejectionsText(counts) || 'no node could take the pod'}`;
}

/** "k=v,k2=v2" (sorted), as the selector reads in `describe app`. */
function selectorText(selector: Record<string, string>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

export class Placement {
  private readonly onNode = new Map<string, Map<string, PlacedPod>>();

  /** `nodes` sorted by name; `appByName` every app of the pass (for the claims of pods on a node). */
  constructor(
    readonly nodes: readonly NodeView[],
    private readonly appByName: ReadonlyMap<string, App>,
    private readonly archOk: ArchCompatible,
  ) {}

  add(p: PlacedPod): void {
    let here = this.onNode.get(p.node);
    if (!here) this.onNode.set(p.node, (here = new Map()));
    here.set(p.meta.name, p);
  }

  delete(p: PodAssignment): void {
    if (p.node !== undefined) this.onNode.get(p.node)?.delete(p.meta.name);
  }

  podsOn(node: string): PlacedPod[] {
    return [...(this.onNode.get(node)?.values() ?? [])];
  }

  /** Selector and arch: what a node must keep matching to keep the pods it has. */
  canKeep(app: App, node: NodeView): boolean {
    return selectorMatches(app.spec.template.nodeSelector, node.labels) && this.archOk(app, node);
  }

  /** The first check a node fails for a new pod of the app; undefined when it can take one. */
  rejection(app: App, node: NodeView): Rejection | undefined {
    if (!acceptsNewPods(node)) return 'notReady';
    if (node.cordoned) return 'cordoned';
    if (!selectorMatches(app.spec.template.nodeSelector, node.labels)) return 'selector';
    if (!this.archOk(app, node)) return 'arch';
    if (this.hostPortTaken(app, node)) return 'ports';
    if (!this.fits(app, node)) return 'memory';
    return undefined;
  }

  canPlace(app: App, node: NodeView): boolean {
    return this.rejection(app, node) === undefined;
  }

  /** Fewest pods of this app, then fewest pods in total, then name: spreads and is stable. */
  bestNodeFor(app: App): NodeView | undefined {
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

  /** Why no node can take a new pod of the app: every node, counted under its first failed check. */
  explain(app: App): string {
    return failedSchedulingMessage(this.nodes.length, this.countRejections(app, this.nodes));
  }

  /**
   * Why a DaemonSet runs on fewer nodes than its nodeSelector matches, for `describe app`;
   * undefined when every matching node has its pod. `withPod`: nodes holding a pod of it.
   */
  daemonSetNote(app: App, withPod: ReadonlySet<string>): string | undefined {
    const selector = app.spec.template.nodeSelector;
    const matching = this.nodes.filter((n) => selectorMatches(selector, n.labels));
    const selected = Object.keys(selector).length > 0;
    if (matching.length === 0) return selected ? `0 nodes match nodeSelector ${selectorText(selector)}` : 'no node has joined the cluster';
    const without = matching.filter((n) => !withPod.has(n.name));
    if (without.length === 0) return undefined;
    const of = `${matching.length} nodes${selected ? ` matching nodeSelector ${selectorText(selector)}` : ''}`;
    return `no pod on ${without.length} of ${of}: ${rejectionsText(this.countRejections(app, without)) || 'waiting for the next pass'}`;
  }

  /**
   * Requested memory must fit in what the node reported available minus what is already
   * reserved there by assigned pods. Conservative on purpose: a running pod's usage shows in
   * the node's figure and its reservation is counted again, which errs towards not packing a
   * 512 MB board to the point of OOM kills.
   */
  fits(app: App, node: NodeView): boolean {
    const request = appMemoryRequest(app);
    const available = node.facts?.memoryAvailableBytes;
    if (request === 0 || available === undefined) return true;
    let reserved = 0;
    for (const p of this.onNode.get(node.name)?.values() ?? []) {
      const other = this.appByName.get(p.app);
      if (other) reserved += appMemoryRequest(other);
    }
    return request <= available - reserved;
  }

  private countRejections(app: App, nodes: readonly NodeView[]): Map<Rejection, number> {
    const counts = new Map<Rejection, number>();
    for (const node of nodes) {
      const r = this.rejection(app, node);
      if (r) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Whether a pod on the node claims one of the app's hostPorts (judged on its app's current
   * template): Kubernetes' NodePorts filter. A second claimant could never start there, so the
   * pod stays Pending rather than fail on the node.
   */
  private hostPortTaken(app: App, node: NodeView): boolean {
    const ports = appHostPorts(app);
    if (ports.length === 0) return false;
    for (const p of this.onNode.get(node.name)?.values() ?? []) {
      const other = this.appByName.get(p.app);
      if (other !== undefined && appHostPorts(other).some((k) => ports.includes(k))) return true;
    }
    return false;
  }
}
