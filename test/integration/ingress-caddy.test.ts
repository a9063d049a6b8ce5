/**
 * Debian's Caddy driven as an ingress node drives it: CaddyProcess starts it with its admin API on
 * a unix socket, IngressCaddy loads the config built from a network view, requests for two hosts
 * reach two backends, a killed Caddy comes back with the same config, stop leaves nothing behind;
 * HTTPS with a self-signed certificate (openssl) from a TLS Secret of the node's config, a host
 * whose Secret is missing or bad on HTTP only.
 * Backends stand in for Services: plain HTTP servers on 127.0.0.1 given as the "ClusterIPs".
 */
import { createServer, request, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CaddyProcess } from '../../agent/src/runtime/net/ingress-caddy-process.js';
import { IngressCaddy } from '../../agent/src/runtime/net/ingress-caddy.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import type { ClusterNetworkView } from '../../src/core/network/view.js';
import { describeWith } from '../support/prereq.js';
import { selfSignedCert } from '../support/tls-cert.js';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { request as httpsRequest } from 'node:https';

const backends: Server[] = [];
let dir: string;

function backend(name: string): Promise<number> {
  const server = createServer((req, res) => res.end(`${name} ${req.url}`));
  backends.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function freePort(): Promise<number> {
  const s = createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => { const { port } = s.address() as AddressInfo; s.close(() => resolve(port)); }));
}

function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-ingress-'));
});
afterAll(async () => {
  for (const s of backends) s.close();
  await rm(dir, { recursive: true, force: true });
});

/** GET over TLS to 127.0.0.1:port with SNI and Host `host`, trusting only `ca`. */
function getTls(port: number, host: string, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describeWith(['caddy'], 'ingress through Caddy', () => {
  it('routes two hosts to two Services, survives a Caddy crash, stops cleanly', async () => {
    const [shopPort, blogPort, httpPort] = [await backend('shop'), await backend('blog'), await freePort()];
    const svc = (name: string, port: number) => ({ namespace: 'default', name, type: 'ClusterIP' as const, clusterIP: '127.0.0.1', ports: [{ name: '', protocol: 'TCP' as const, port }], endpoints: [] });
    const view: ClusterNetworkView = {
      revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'none', vni: 1, port: 8472 }, nodes: [{ name: 'pi-1', internalIP: '127.0.0.1', ingress: true }],
      services: [svc('shop', shopPort), svc('blog', blogPort)],
      ingresses: [{ namespace: 'default', name: 'sites', tls: [], rules: [
        { host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'shop', port: shopPort } }] },
        { host: 'blog.example.com', paths: [{ path: '/feed', pathType: 'Exact', backend: { service: 'blog', port: blogPort } }] },
      ] }],
    };
    const runDir = join(dir, 'run');
    const caddy = new CaddyProcess({ runDir, clock: systemClock(), logger: createLogger({ level: 'silent' }), restartMs: 100 });
    const consumer = new IngressCaddy({ caddy, adminListen: caddy.adminListen, nodeName: 'pi-1', httpPort, logger: createLogger({ level: 'silent' }) });
    try {
      await consumer.update(view);
      expect(await get(httpPort, 'shop.example.com', '/cart')).toEqual({ status: 200, body: 'shop /cart' });
      expect(await get(httpPort, 'blog.example.com', '/feed')).toEqual({ status: 200, body: 'blog /feed' });
      expect(await get(httpPort, 'blog.example.com', '/feed/x')).toEqual({ status: 404, body: 'no Ingress rule matches this host and path\n' });
      // Nothing Caddy would persist (autosave.json) was written.
      expect(existsSync(join(runDir, 'caddy', 'autosave.json'))).toBe(false);

      // A crash: Caddy is started again and given the last config.
      const pid = (caddy as unknown as { child: { pid: number } }).child.pid;
      process.kill(pid, 'SIGKILL');
      let answer: { status: number; body: string } | undefined;
      for (let i = 0; i < 100 && answer?.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await get(httpPort, 'shop.example.com', '/').catch(() => undefined);
      }
      expect(answer).toEqual({ status: 200, body: 'shop /' });
    } finally {
      await consumer.cleanup();
    }
    expect(existsSync(runDir)).toBe(false);
    await expect(get(httpPort, 'shop.example.com', '/')).rejects.toThrow();
  });

  it('serves HTTPS with the TLS Secret the node has; a host whose Secret is missing or bad stays on HTTP only', async () => {
    const [shopPort, blogPort, httpPort, httpsPort] = [await backend('shop'), await backend('blog'), await freePort(), await freePort()];
    const shopCert = selfSignedCert(['shop.example.com']);
    const blogCert = selfSignedCert(['blog.example.com']);
    const svc = (name: string, port: number) => ({ namespace: 'default', name, type: 'ClusterIP' as const, clusterIP: '127.0.0.1', ports: [{ name: '', protocol: 'TCP' as const, port }], endpoints: [] });
    const view: ClusterNetworkView = {
      revision: 1, clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDomain: 'cluster.local', overlay: { backend: 'none', vni: 1, port: 8472 }, nodes: [{ name: 'pi-1', internalIP: '127.0.0.1', ingress: true }],
      services: [svc('shop', shopPort), svc('blog', blogPort)],
      ingresses: [{ namespace: 'default', name: 'sites', tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }, { hosts: ['blog.example.com'], secretName: 'blog-tls' }], rules: [
        { host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'shop', port: shopPort } }] },
        { host: 'blog.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'blog', port: blogPort } }] },
      ] }],
    };
    const config = new MemoryConfigSource();
    config.set('Secret', 'shop-tls', { 'tls.crt': shopCert.certPem, 'tls.key': shopCert.keyPem }, undefined, 'kubernetes.io/tls');
    // blog-tls: a certificate with another certificate's key. Caddy would refuse the whole config for it.
    config.set('Secret', 'blog-tls', { 'tls.crt': blogCert.certPem, 'tls.key': shopCert.keyPem }, undefined, 'kubernetes.io/tls');
    const logger = createLogger({ level: 'silent' });
    const caddy = new CaddyProcess({ runDir: join(dir, 'run-tls'), clock: systemClock(), logger });
    const consumer = new IngressCaddy({ caddy, adminListen: caddy.adminListen, nodeName: 'pi-1', config, httpPort, httpsPort, logger });
    try {
      await consumer.update(view);
      expect(await getTls(httpsPort, 'shop.example.com', '/cart', shopCert.certPem)).toEqual({ status: 200, body: 'shop /cart' });
      // The bad Secret's host: no certificate for it over TLS, its routes still on HTTP; the good host unharmed.
      await expect(getTls(httpsPort, 'blog.example.com', '/', blogCert.certPem)).rejects.toThrow();
      expect(await get(httpPort, 'blog.example.com', '/feed')).toEqual({ status: 200, body: 'blog /feed' });
      // The Secret is fixed in the node's config: HTTPS for blog too, without a new view.
      config.set('Secret', 'blog-tls', { 'tls.crt': blogCert.certPem, 'tls.key': blogCert.keyPem }, undefined, 'kubernetes.io/tls');
      let answer: { status: number; body: string } | undefined;
      for (let i = 0; i < 50 && answer?.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await getTls(httpsPort, 'blog.example.com', '/feed', blogCert.certPem).catch(() => undefined);
      }
      expect(answer).toEqual({ status: 200, body: 'blog /feed' });
      expect(await getTls(httpsPort, 'shop.example.com', '/', shopCert.certPem)).toEqual({ status: 200, body: 'shop /' });
    } finally {
      await consumer.cleanup();
    }
  });
});
