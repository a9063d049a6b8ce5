/**
 * The overlay on the node (a NetworkViewConsumer): with every view, it reads what the host has
 * (host-links.ts), plans the difference (overlay-plan.ts) and applies it in one `ip -batch`
 * transaction (and one `bridge -batch` for VXLAN fdb entries) — nothing when nothing differs.
 * A node that goes offline stays in the view (the server keeps its Node), so its routes stay.
 * Calls are serialised: a view arriving while one is applied waits, and only the latest waits.
 */
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { runBatch } from './batch-command.js';
import { linkOf, readOverlay, type HostToolPaths } from './host-links.js';
import { desiredOverlay, overlayNames, planOverlay, type DesiredOverlay, type OverlayNames, type UnderlyingLink } from './overlay-plan.js';

export interface OverlayOptions {
  /** This node's name (its entry in view.nodes). */
  nodeName: string;
  /** netTag(dataDir): names the device and marks the routes. */
  tag: string;
  logger: Logger;
  paths?: HostToolPaths;
}

export class Overlay implements NetworkViewConsumer {
  readonly names: OverlayNames;
  private readonly log: Logger;
  private queue: Promise<void> = Promise.resolve();
  private latest: ClusterNetworkView | undefined;

  constructor(private readonly opts: OverlayOptions) {
    this.names = overlayNames(opts.tag);
    this.log = opts.logger.child({ component: 'overlay' });
  }

  /** The link this node's overlay traffic leaves by (its InternalIP's), for the pods' MTU. */
  async underlying(view: ClusterNetworkView): Promise<UnderlyingLink | undefined> {
    const own = view.nodes.find((n) => n.name === this.opts.nodeName);
    return own ? linkOf(own.internalIP, this.opts.paths) : undefined;
  }

  update(view: ClusterNetworkView): Promise<void> {
    this.latest = view;
    const run = this.queue.then(async () => {
      if (this.latest !== view) return; // a newer view is queued behind: it does the work
      await this.apply(view);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async cleanup(): Promise<void> {
    this.latest = undefined;
    const run = this.queue.then(() => this.program({ backend: 'none', names: this.names, peers: [] }));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(view: ClusterNetworkView): Promise<void> {
    const underlying = await this.underlying(view);
    const own = view.nodes.find((n) => n.name === this.opts.nodeName);
    if (view.overlay.backend === 'vxlan' && own && !underlying) {
      this.log.warn({ internalIP: own.internalIP }, 'no interface holds this node\'s InternalIP: no VXLAN tunnel to other nodes (set --node-ip)');
    }
    await this.program(desiredOverlay(view, this.opts.nodeName, this.names, underlying));
  }

  private async program(desired: DesiredOverlay): Promise<void> {
    const observed = await readOverlay(this.names, this.opts.paths);
    const plan = planOverlay(observed, desired);
    if (plan.ip.length === 0 && plan.bridge.length === 0) return;
    try {
      await runBatch('ip', plan.ip.join('\n') + (plan.ip.length ? '\n' : ''), this.opts.paths?.ip ? { path: this.opts.paths.ip } : {});
      await runBatch('bridge', plan.bridge.join('\n') + (plan.bridge.length ? '\n' : ''), this.opts.paths?.bridge ? { path: this.opts.paths.bridge } : {});
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'could not program the overlay; the next view tries again');
      throw err;
    }
    this.log.info({ backend: desired.backend, peers: desired.peers.length, changes: plan.ip.length + plan.bridge.length }, 'overlay programmed');
  }
}
