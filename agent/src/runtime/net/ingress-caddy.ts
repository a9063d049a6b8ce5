/**
 * The network view's ingress consumer (docs/networking.md "Ingress"): on a node labelled for
 * ingress it keeps Caddy running and configured from the view's Ingresses; elsewhere it does
 * nothing (no process, no socket). Caddy is told only when the config changed; after a Caddy
 * restart the last config is loaded again.
 */
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import type { Logger } from '../../../../src/core/logger.js';
import { caddyConfig, type TlsCertificate } from './ingress-caddy-config.js';
import type { CaddyControl } from './ingress-caddy-process.js';

export interface IngressCaddyOptions {
  caddy: CaddyControl;
  adminListen: string;
  /** This node: it serves Ingresses when the view marks it (its Node carries node-role.kubernetes.io/ingress=true). */
  nodeName: string;
  /** The TLS certificates this node was sent ("<ns>/<secret>" → PEMs); empty until TLS is wired. */
  certificates?: () => ReadonlyMap<string, TlsCertificate>;
  httpPort?: number;
  httpsPort?: number;
  logger: Logger;
}

export class IngressCaddy implements NetworkViewConsumer {
  private loaded: string | undefined;
  private running = false;

  constructor(private readonly o: IngressCaddyOptions) {
    o.caddy.onRestart(() => {
      const last = this.loaded;
      if (last !== undefined) void o.caddy.load(last).catch((err: Error) => o.logger.warn(`ingress: reloading caddy failed: ${err.message}`));
    });
  }

  async update(view: ClusterNetworkView): Promise<void> {
    if (!view.nodes.some((n) => n.name === this.o.nodeName && n.ingress)) {
      if (this.running) await this.cleanup();
      return;
    }
    const text = JSON.stringify(caddyConfig({
      ingresses: view.ingresses ?? [],
      services: view.services,
      certificates: this.o.certificates?.() ?? new Map(),
      adminListen: this.o.adminListen,
      httpPort: this.o.httpPort ?? 80,
      httpsPort: this.o.httpsPort ?? 443,
    }));
    if (this.running && text === this.loaded) return;
    await this.o.caddy.ensureRunning();
    this.running = true;
    await this.o.caddy.load(text);
    this.loaded = text;
  }

  async cleanup(): Promise<void> {
    this.running = false;
    this.loaded = undefined;
    await this.o.caddy.stop();
  }
}
