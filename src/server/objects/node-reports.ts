/**
 * Node reports → the Node object: labels when the facts they derive from change (a put, rare),
 * status through the StatusWriter (coalesced; the Ready condition's times move on transitions
 * only, so heartbeats write nothing). The status cache calls report() on every accepted status
 * and on every readiness flip.
 */
import type { Node } from '../../core/objects/cluster.js';
import type { Condition } from '../../core/objects/meta.js';
import type { AnyObject } from '../../core/objects/changes.js';
import type { WireNodeFacts } from '../../core/objects/wire.js';
import { createWireEncoder, encodeCanonical } from '../../core/wire-codec.js';
import type { EventInput } from '../events/event-types.js';
import { nodeConditionEvents } from '../events/node-events.js';
import { nodeStatus, nodeWithFacts, type NodeReadiness } from './node-object.js';
import type { ObjectStore } from './object-store.js';
import type { StatusWriter } from './status-writer.js';

export class NodeReports {
  private readonly encoder = createWireEncoder();
  /**
   * The conditions last handed to the status writer, per node: the stored ones lag behind by up
   * to its interval, and a flip judged against them would be recorded twice.
   */
  private readonly lastConditions = new Map<string, readonly Condition[]>();

  constructor(
    private readonly objects: ObjectStore,
    private readonly statuses: StatusWriter,
    /** Where the node's events go (NodeReady, NodeNotReady, pressure). */
    private readonly onEvents: (events: EventInput[]) => void = () => {},
  ) {}

  /** Records what `node` reported (facts absent: only its readiness changed). Unknown nodes are ignored. */
  async report(name: string, readiness: NodeReadiness, facts?: WireNodeFacts): Promise<void> {
    const node = (await this.objects.get({ kind: 'Node', name })) as Node | undefined;
    if (!node) return;
    if (facts) {
      const labelled = nodeWithFacts(node, facts);
      if (!encodeCanonical(labelled.metadata, this.encoder).equals(encodeCanonical(node.metadata, this.encoder))) {
        const { resourceVersion: _rv, ...metadata } = labelled.metadata;
        await this.objects.commit([{ op: 'put', object: { ...labelled, metadata } as AnyObject }]);
      }
    }
    const previous = this.lastConditions.get(name) ?? node.status?.conditions;
    const status = nodeStatus(node.status && { ...node.status, ...(previous ? { conditions: [...previous] } : {}) }, readiness, facts);
    this.lastConditions.set(name, status.conditions ?? []);
    const events = nodeConditionEvents(name, previous, status.conditions ?? []);
    if (events.length) this.onEvents(events);
    this.statuses.set({ kind: 'Node', name }, status);
  }

  /** Forgets a deleted node. */
  forget(name: string): void {
    this.lastConditions.delete(name);
  }
}
