import { describe, expect, it } from 'vitest';
import { IngressCaddy } from '../../agent/src/runtime/net/ingress-caddy.js';
import type { CaddyControl } from '../../agent/src/runtime/net/ingress-caddy-process.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';

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

const logger = { warn: () => {} } as never;
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
