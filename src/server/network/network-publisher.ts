/**
 * Publishes the cluster network view (issue 15, docs/protocol.md "Network view"): after changes
 * to Nodes, Services or EndpointSlices (coalesced, 100 ms by default) it derives the view
 * (network-view-builder.ts) and publishes, retained at QoS 1, ONLY what changed:
 *
 *   network/services/<ns>/<name>   a Service whose view changed, with a new revision
 *                                  (an empty payload clears a deleted Service)
 *   network/cluster                the index (settings, nodes, Service → revision) when
 *                                  anything in it changed; always after the Services it names
 *
 * Revisions are the store's revision at the pass (never below the last published + 1), so
 * they only grow, across restarts too. After a (re)connection everything is published again
 * (the broker may have lost its retained messages), with the revisions it had.
 *
 * Nothing is written to the store: what was published lives in memory. A Service deleted while
 * the server was down keeps a retained message on the broker, which agents ignore because the
 * index no longer lists it.
 */
import { DebouncedPasses } from '../objects/debounced-passes.js';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { kindPrefix } from '../../core/keys.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { NetworkNode, ServiceView } from '../../core/network/view.js';
import { networkTopics } from '../../core/topics.js';
import { createWireEncoder, encodeCanonical } from '../../core/wire-codec.js';
import { ingressViews, type IngressView } from '../../core/network/ingress-view.js';
import { encodeNetworkCluster, encodeNetworkService, type WireNetworkCluster } from '../../core/wire-network.js';
import { WIRE_SCHEMA } from '../../core/wire-types.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { NetworkSettings } from './network-settings.js';
import { networkNodes, serviceViews } from './network-view-builder.js';

export const DEFAULT_NETWORK_DEBOUNCE_MS = 100;

export interface NetworkPublisherOptions {
  objects: ObjectStore;
  cluster: string;
  settings: NetworkSettings;
  clock: Clock;
  logger: Logger;
  /** Retained, QoS 1; an empty payload clears the retained message. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  debounceMs?: number;
}

/** One message to send: a Service's view (or its deletion), or the index. */
export type NetworkPublication =
  | { kind: 'service'; namespace: string; name: string; revision: number; service: ServiceView }
  | { kind: 'service-deleted'; namespace: string; name: string }
  | { kind: 'index'; index: WireNetworkCluster };

/** What was last published: each Service's view (canonical bytes) and revision, and the index. */
export interface PublishedState {
  services: Map<string, { revision: number; bytes: Buffer }>;
  index?: { bytes: Buffer; revision: number };
}

export interface NetworkInputs {
  settings: NetworkSettings;
  nodes: NetworkNode[];
  services: Map<string, ServiceView>;
  /** The Ingresses Grove serves (ingressViews), sorted; they ride in the index. */
  ingresses?: IngressView[];
}

/**
 * PURE (but for updating `state`): the messages that bring the broker from `state` to `inputs`,
 * Services first, the index last. `revision` is the one new messages get. `all`: every message
 * again (after a reconnection), changed or not, with the revisions already given.
 */
export function planNetworkPublications(state: PublishedState, inputs: NetworkInputs, revision: number, all = false): NetworkPublication[] {
  const encoder = createWireEncoder();
  const out: NetworkPublication[] = [];
  let next = Math.max(revision, (state.index?.revision ?? 0) + 1);
  for (const s of state.services.values()) next = Math.max(next, s.revision + 1);
  let changed = false;
  const revisions: Record<string, number> = {};
  for (const key of [...inputs.services.keys()].sort()) {
    const service = inputs.services.get(key)!;
    const bytes = encodeCanonical(service, encoder);
    const last = state.services.get(key);
    if (last && last.bytes.equals(bytes)) {
      revisions[key] = last.revision;
      if (all) out.push({ kind: 'service', namespace: service.namespace, name: service.name, revision: last.revision, service });
      continue;
    }
    changed = true;
    state.services.set(key, { revision: next, bytes });
    revisions[key] = next;
    out.push({ kind: 'service', namespace: service.namespace, name: service.name, revision: next, service });
  }
  for (const key of [...state.services.keys()]) {
    if (inputs.services.has(key)) continue;
    changed = true;
    state.services.delete(key);
    const [namespace, name] = key.split('/') as [string, string];
    out.push({ kind: 'service-deleted', namespace, name });
  }
  const { settings } = inputs;
  const body = {
    clusterCIDR: settings.clusterCIDR.text,
    serviceCIDR: settings.serviceCIDR.text,
    clusterDomain: settings.clusterDomain,
    overlay: settings.overlay,
    nodes: inputs.nodes,
    services: revisions,
    ...(inputs.ingresses?.length ? { ingresses: inputs.ingresses } : {}),
  };
  const bytes = encodeCanonical(body, encoder);
  if (changed || !state.index || !state.index.bytes.equals(bytes)) {
    state.index = { bytes, revision: next };
    out.push({ kind: 'index', index: { schema: WIRE_SCHEMA, revision: next, ...body } });
  } else if (all) {
    out.push({ kind: 'index', index: { schema: WIRE_SCHEMA, revision: state.index.revision, ...body } });
  }
  return out;
}

const WATCHED = [KINDS.Node, KINDS.Service, KINDS.EndpointSlice, KINDS.Ingress, KINDS.IngressClass].map((k) => kindPrefix(k));

export class NetworkPublisher {
  private readonly log: Logger;
  private readonly state: PublishedState = { services: new Map() };
  private unwatch: (() => void) | undefined;
  private republish = false;
  private readonly passes: DebouncedPasses;

  constructor(private readonly opts: NetworkPublisherOptions) {
    this.log = opts.logger.child({ component: 'network-publisher' });
    this.passes = new DebouncedPasses(opts.clock, opts.debounceMs ?? DEFAULT_NETWORK_DEBOUNCE_MS, () => this.publishPass());
  }

  /** Publishes the whole view, then follows changes. */
  async start(): Promise<void> {
    this.unwatch = this.opts.objects.store.watch((change) => {
      if (change.ops.some((op) => WATCHED.some((p) => op.key.startsWith(p)))) this.nudge();
    });
    this.republish = true;
    this.passes.start();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.passes.stop();
  }

  /** A pass after the debounce (a burst of slice writes is one publication). */
  nudge(): void {
    this.passes.nudge();
  }

  /** Every message again (the broker may be a fresh one). */
  republishAll(): void {
    this.republish = true;
    this.nudge();
  }

  /** Resolves when no pass is pending or running; a pass waiting out its debounce runs now. */
  idle(): Promise<void> {
    return this.passes.idle();
  }

  private async publishPass(): Promise<void> {
    const all = this.republish;
    this.republish = false;
    try {
      await this.pass(all);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'publishing the network view failed');
      // What failed to go out is published again in full on the next pass.
      this.state.services.clear();
      this.state.index = undefined;
    }
  }

  private async pass(all: boolean): Promise<void> {
    const revision = this.opts.objects.store.revision();
    const [nodes, services, slices, ingresses, classes] = await Promise.all([this.opts.objects.list('Node'), this.opts.objects.list('Service'), this.opts.objects.list('EndpointSlice'), this.opts.objects.list('Ingress'), this.opts.objects.list('IngressClass')]);
    const inputs: NetworkInputs = { settings: this.opts.settings, nodes: networkNodes(nodes.items), services: serviceViews(services.items, slices.items, nodes.items), ingresses: ingressViews(ingresses.items, classes.items) };
    const topics = networkTopics(this.opts.cluster);
    const publications = planNetworkPublications(this.state, inputs, Math.max(1, revision), all);
    // Services before the index that names them, so a node never waits on a listed Service for long.
    const sends: Promise<void>[] = [];
    for (const p of publications) {
      if (p.kind === 'service') sends.push(this.opts.publish(topics.service(p.namespace, p.name), encodeNetworkService({ schema: WIRE_SCHEMA, revision: p.revision, service: p.service })));
      else if (p.kind === 'service-deleted') sends.push(this.opts.publish(topics.service(p.namespace, p.name), Buffer.alloc(0)));
      else {
        await Promise.all(sends);
        await this.opts.publish(topics.cluster, encodeNetworkCluster(p.index));
      }
    }
    await Promise.all(sends);
    if (publications.length) this.log.debug({ messages: publications.length }, 'network view published');
  }
}
