/**
 * The node's pod network as the network view's consumers, in the order they run: the Overlay
 * (routes to the other nodes' pods; it knows the underlying link, hence the MTU), then the
 * PodNetworkProgrammer (this node's pod CIDR for PodNetwork, egress chains). What the agent's
 * NetworkSync is given; the test helper drives the same pair.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { PodNetwork } from '../cni/pod-network.js';
import { netTag } from '../pod-sandbox-setup.js';
import { Overlay } from './overlay.js';
import type { LocalPodNetwork } from './pod-egress.js';
import { PodNetworkProgrammer } from './pod-network-programmer.js';

export interface PodNetworkConsumerOptions {
  dataDir: string;
  nodeName: string;
  /** The PodNetwork the agent's pod sandboxes attach through. */
  network: PodNetwork;
  local: LocalPodNetwork;
  logger: Logger;
}

export function podNetworkConsumers(o: PodNetworkConsumerOptions): [Overlay, PodNetworkProgrammer] {
  const tag = netTag(o.dataDir);
  const overlay = new Overlay({ nodeName: o.nodeName, tag, logger: o.logger });
  const programmer = new PodNetworkProgrammer({ nodeName: o.nodeName, tag, network: o.network, local: o.local, dataDir: o.dataDir, underlying: (view) => overlay.underlying(view), logger: o.logger });
  return [overlay, programmer];
}

