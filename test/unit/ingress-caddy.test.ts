import { describe, expect, it } from 'vitest';
import { IngressCaddy } from '../../agent/src/runtime/net/ingress-caddy.js';
import type { CaddyControl } from '../../agent/src/runtime/net/ingress-caddy-process.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { selfSignedCert } from '../support/tls-cert.js';

class FakeCaddy implements CaddyControl {
  calls: string[] = [];
  loads: string[] = [];
  private restart: (() => void)[] = [];
  async ensureRunning() { this.calls.push('ensure'); }
  async load(json: string) { this.calls.push('load'); this.loads.push(json); }
  async stop() { this.calls.push('stop'); }
  onRestart(fn: () => void) { this.restart.push(fn); }
  restarted() { this.restart.forEach((fn) => fn()); }
}

const warnings: string[] = [];
const logger = { warn: (m: string) => void warnings.push(m) } as never;
let ingressNode = false;
const view = (host: string): ClusterNetworkView => ({
  revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'none', vni: 1, port: 8472 },
  nodes: [{ name: 'pi-1', internalIP: '192.168.1.10', ...(ingressNode ? { ingress: true } : {}) }, { name: 'pi-2', internalIP: '192.168.1.11', ingress: true }],
  services: [{ namespace: 'default', name: 'web', type: 'ClusterIP', clusterIP: '10.43.0.10', ports: [{ name: '', protocol: 'TCP', port: 80 }], endpoints: [] }],
  ingresses: [{ namespace: 'default', name: 'web', tls: [], rules: [{ host, paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: 80 } }] }] }],
});

describe('IngressCaddy (the ingress consumer)', () => {
  it('runs and loads Caddy only on ingress nodes, only when the config changed, and again after a restart', async () => {
    const caddy = new FakeCaddy();
    ingressNode = false;
        const consumer = new IngressCaddy({ caddy, adminListen: 'unix//x.sock', nodeName: 'pi-1', httpPort: 8080, logger });
    await consumer.update(view('a.example.com'));
    expect(caddy.calls).toEqual([]);
    ingressNode = true;
    await consumer.update(view('a.example.com'));
    await consumer.update({ ...view('a.example.com'), revision: 2 });
    expect(caddy.calls).toEqual(['ensure', 'load']);
    expect(JSON.parse(caddy.loads[0]!).apps.http.servers.http.listen).toEqual([':8080']);
    await consumer.update(view('b.example.com'));
    expect(caddy.calls).toEqual(['ensure', 'load', 'ensure', 'load']);
    caddy.restarted();
    await Promise.resolve();
    expect(caddy.loads.at(-1)).toBe(caddy.loads.at(-2));
    ingressNode = false;
    await consumer.update(view('b.example.com'));
    expect(caddy.calls.at(-1)).toBe('stop');
  });
});

describe('IngressCaddy with TLS Secrets', () => {
  const shop = selfSignedCert(['shop.example.com']);
  const other = selfSignedCert(['other.example.com']);
  const tlsView = (revision = 1): ClusterNetworkView => ({
    ...view('shop.example.com'),
    revision,
    nodes: [{ name: 'pi-1', internalIP: '192.168.1.10', ingress: true }],
    ingresses: [{ namespace: 'shop', name: 'web', tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }], rules: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: 80 } }] }] }],
  });
  type Loaded = { apps: { tls?: { certificates: { load_pem: { certificate: string; key: string }[] } }; http: { servers: Record<string, { listen: string[] }> } } };
  const last = (caddy: FakeCaddy) => JSON.parse(caddy.loads.at(-1)!) as Loaded;
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const TLS = 'kubernetes.io/tls';

  it('serves HTTPS once the node has the Secret, on the ports given; a bad or missing Secret leaves HTTP only and is said once', async () => {
    const caddy = new FakeCaddy();
    const config = new MemoryConfigSource();
    warnings.length = 0;
    const consumer = new IngressCaddy({ caddy, adminListen: 'unix//x.sock', nodeName: 'pi-1', config, httpPort: 8080, httpsPort: 8443, logger });
    await consumer.update(tlsView());
    expect(last(caddy).apps.tls).toBeUndefined();
    expect(Object.keys(last(caddy).apps.http.servers)).toEqual(['http']);
    await consumer.update(tlsView(2));
    expect(warnings).toEqual(['ingress: TLS Secrets left out, their hosts are served on HTTP only: shop/shop-tls: not on this node (missing, or not a kubernetes.io/tls Secret)']);

    // The Secret arrives in the node's bundle: Caddy is reconfigured without waiting for a view.
    config.set('Secret', 'shop-tls', { 'tls.crt': shop.certPem, 'tls.key': shop.keyPem }, 'shop', TLS);
    await settle();
    expect(caddy.loads).toHaveLength(2);
    expect(last(caddy).apps.tls!.certificates.load_pem).toEqual([{ certificate: shop.certPem, key: shop.keyPem, tags: ['shop/shop-tls'] }]);
    expect(last(caddy).apps.http.servers.https!.listen).toEqual([':8443']);

    // A key that is not the certificate's: left out (Caddy would refuse the whole config), HTTP stays.
    config.set('Secret', 'shop-tls', { 'tls.crt': shop.certPem, 'tls.key': other.keyPem }, 'shop', TLS);
    await settle();
    expect(caddy.loads).toHaveLength(3);
    expect(last(caddy).apps.tls).toBeUndefined();
    expect(Object.keys(last(caddy).apps.http.servers)).toEqual(['http']);
    expect(warnings.at(-1)).toBe('ingress: TLS Secrets left out, their hosts are served on HTTP only: shop/shop-tls: tls.key is not the key of the first certificate in tls.crt');

    // An Opaque Secret of that name (a pod on this node uses it, so it is in the bundle) with a
    // good pair: left out as the server says (TLSSecretWrongType), not served behind its back.
    config.set('Secret', 'shop-tls', { 'tls.crt': shop.certPem, 'tls.key': shop.keyPem }, 'shop');
    await settle();
    expect(last(caddy).apps.tls).toBeUndefined();
    expect(warnings.at(-1)).toBe('ingress: TLS Secrets left out, their hosts are served on HTTP only: shop/shop-tls: of type Opaque, not kubernetes.io/tls');
    config.set('Secret', 'shop-tls', { 'tls.crt': shop.certPem, 'tls.key': shop.keyPem }, 'shop', 'kubernetes.io/basic-auth');
    await settle();
    expect(warnings.at(-1)).toMatch(/shop\/shop-tls: of type kubernetes.io\/basic-auth, not kubernetes.io\/tls$/);
    expect(last(caddy).apps.tls).toBeUndefined();
    const loads = caddy.loads.length;

    // An unrelated Secret changes nothing Caddy sees.
    config.set('Secret', 'db', { password: 'x' });
    await settle();
    expect(caddy.loads).toHaveLength(loads);

    // After cleanup (the agent stops) a Secret change starts nothing.
    await consumer.cleanup();
    config.set('Secret', 'shop-tls', { 'tls.crt': shop.certPem, 'tls.key': shop.keyPem }, 'shop', TLS);
    await settle();
    expect(caddy.calls.at(-1)).toBe('stop');
  });
});
