/**
 * Node reports → the Node object: labels when the facts they derive from change (a put, rare),
 * status through the StatusWriter (coalesced; the Ready condition's times move on transitions
 * only, so heartbeats write nothing). The status cache calls report() on every accepted status
 * and on every readiness flip.
 */
import type { Node } from '../../core/objects/cluster.js';
import type { AnyObject } from '../../core/objects/changes.js';
import type { WireNodeFacts } from '../../core/objects/wire.js';
import { createWireEncoder, encodeCanonical } from '../../core/wire-codec.js';
import { nodeStatus, nodeWithFacts, type NodeReadiness } from './node-object.js';
import type { ObjectStore } from './object-store.js';
import type { StatusWriter } from './status-writer.js';

export class NodeReports {
  private readonly encoder = createWireEncoder();

  constructor(
    private readonly objects: ObjectStore,
    private readonly statuses: StatusWriter,
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
    this.statuses.set({ kind: 'Node', name }, nodeStatus(node.status, readiness, facts));
  }
}
