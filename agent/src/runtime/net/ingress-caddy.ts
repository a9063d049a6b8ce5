/**
 * The network view's ingress consumer (docs/networking.md "Ingress"): on a node labelled for
 * ingress it keeps Caddy running and configured from the view's Ingresses and the TLS Secrets
 * this node was sent (ingress-certificates.ts); elsewhere it does nothing (no process, no
 * socket). Caddy is told only when the config changed; after a Caddy restart the last config is
 * loaded again; a new or changed Secret reconfigures it without waiting for the next view.
 * Views and Secret changes are applied one at a time, in order.
 */
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { ConfigObject, ConfigRef } from '../../../../src/core/config-refs.js';
import { caddyConfig } from './ingress-caddy-config.js';
import type { CaddyControl } from './ingress-caddy-process.js';
import { IngressCertificates } from './ingress-certificates.js';

export const DEFAULT_INGRESS_HTTP_PORT = 80;
export const DEFAULT_INGRESS_HTTPS_PORT = 443;

/** What the consumer reads of the node's ConfigSource (agent/src/agent/config-source.ts): Secrets, and news of them. */
export interface SecretSource {
  get(kind: 'Secret', name: string, namespace?: string): ConfigObject | undefined;
  onChange(listener: (changed: readonly ConfigRef[]) => void): () => void;
}

export interface IngressCaddyOptions {
  caddy: CaddyControl;
  adminListen: string;
  /** This node: it serves Ingresses when the view marks it (its Node carries node-role.kubernetes.io/ingress=true). */
  nodeName: string;
  /** The node's ConfigMaps and Secrets: the Ingresses' TLS Secrets arrive here (ingress nodes only). */
  config?: SecretSource;
  httpPort?: number;
  httpsPort?: number;
  logger: Logger;
}

export class IngressCaddy implements NetworkViewConsumer {
  private loaded: string | undefined;
  private running = false;
  /** The view last given; undefined after cleanup, so a Secret change then starts nothing. */
  private view: ClusterNetworkView | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly certificates: IngressCertificates;
  /** The certificate problems last logged, so a problem is said once, not with every view. */
  private told = '';

  constructor(private readonly o: IngressCaddyOptions) {
    this.certificates = new IngressCertificates((name, namespace) => o.config?.get('Secret', name, namespace));
    o.caddy.onRestart(() => {
      const last = this.loaded;
      if (last !== undefined) void o.caddy.load(last).catch((err: Error) => o.logger.warn(`ingress: reloading caddy failed: ${err.message}`));
    });
    o.config?.onChange((changed) => {
      if (this.view && changed.some((ref) => ref.kind === 'Secret')) {
        void this.enqueue(() => this.apply()).catch((err: Error) => o.logger.warn(`ingress: applying new TLS Secrets failed: ${err.message}`));
      }
    });
  }

  update(view: ClusterNetworkView): Promise<void> {
    this.view = view;
    return this.enqueue(() => this.apply());
  }

  cleanup(): Promise<void> {
    this.view = undefined;
    return this.enqueue(() => this.stop());
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async apply(): Promise<void> {
    const view = this.view;
    if (!view || !view.nodes.some((n) => n.name === this.o.nodeName && n.ingress)) {
      if (this.running) await this.stop();
      return;
    }
    const ingresses = view.ingresses ?? [];
    const { certificates, problems } = this.certificates.resolve(ingresses);
    this.tell(problems);
    const text = JSON.stringify(caddyConfig({
      ingresses,
      services: view.services,
      certificates,
      adminListen: this.o.adminListen,
      httpPort: this.o.httpPort ?? DEFAULT_INGRESS_HTTP_PORT,
      httpsPort: this.o.httpsPort ?? DEFAULT_INGRESS_HTTPS_PORT,
    }));
    if (this.running && text === this.loaded) return;
    await this.o.caddy.ensureRunning();
    this.running = true;
    await this.o.caddy.load(text);
    this.loaded = text;
  }

  private tell(problems: readonly string[]): void {
    const text = problems.join('; ');
    if (text && text !== this.told) this.o.logger.warn(`ingress: TLS Secrets left out, their hosts are served on HTTP only: ${text}`);
    this.told = text;
  }

  private async stop(): Promise<void> {
    this.running = false;
    this.loaded = undefined;
    this.told = '';
    await this.o.caddy.stop();
  }
}
