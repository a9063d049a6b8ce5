import { describe, expect, it } from 'vitest';
import { caddyConfig, type CaddyConfigInput } from '../../agent/src/runtime/net/ingress-caddy-config.js';
import { ingressViews, type IngressView } from '../../src/core/network/ingress-view.js';
import type { ServiceView } from '../../src/core/network/view.js';
import type { Ingress, IngressClass } from '../../src/core/objects/ingress.js';

const svc = (name: string, extra: Partial<ServiceView> = {}): ServiceView => ({ namespace: 'default', name, type: 'ClusterIP', clusterIP: '10.43.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], endpoints: [], ...extra });
const backend = (service: string, port: number | string = 80) => ({ service, port });
const input = (ingresses: IngressView[], services: ServiceView[], certificates = new Map()): CaddyConfigInput => ({ ingresses, services, certificates, adminListen: 'unix//run/grove-ingress/admin.sock', httpPort: 80, httpsPort: 443 });
const NOT_FOUND = { handle: [{ handler: 'static_response', status_code: 404, body: 'no Ingress rule matches this host and path\n' }], terminal: true };
const proxy = (dial: string) => [{ handler: 'reverse_proxy', upstreams: [{ dial }] }];

describe('caddyConfig (ingress view → Caddy JSON)', () => {
  it('routes two hosts to two Services, exact before prefix, longer prefixes first, no automatic HTTPS, nothing persisted', () => {
    const ing: IngressView = {
      namespace: 'default', name: 'sites', tls: [],
      rules: [
        { host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('shop') }, { path: '/api/', pathType: 'Prefix', backend: backend('api', 'http') }, { path: '/health', pathType: 'Exact', backend: backend('api') }] },
        { host: 'blog.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('blog') }] },
      ],
    };
    const config = caddyConfig(input([ing], [svc('shop', { clusterIP: '10.43.0.11' }), svc('api', { clusterIP: '10.43.0.12' }), svc('blog', { clusterIP: '10.43.0.13' })]));
    expect(config).toEqual({
      admin: { listen: 'unix//run/grove-ingress/admin.sock', origins: ['localhost'], config: { persist: false } },
      logging: { logs: { default: { level: 'WARN' } } },
      apps: {
        http: {
          servers: {
            http: {
              listen: [':80'],
              automatic_https: { disable: true },
              routes: [
                { match: [{ host: ['blog.example.com'] }], handle: proxy('10.43.0.13:80'), terminal: true },
                { match: [{ host: ['shop.example.com'], path: ['/health'] }], handle: proxy('10.43.0.12:80'), terminal: true },
                { match: [{ host: ['shop.example.com'], path: ['/api', '/api/*'] }], handle: proxy('10.43.0.12:80'), terminal: true },
                { match: [{ host: ['shop.example.com'] }], handle: proxy('10.43.0.11:80'), terminal: true },
                NOT_FOUND,
              ],
            },
          },
        },
      },
    });
  });

  it('puts wildcard hosts after exact ones, hostless rules and default backends last; a missing Service answers 503; headless dials ready endpoints', () => {
    const ing: IngressView = {
      namespace: 'default', name: 'mixed', tls: [], defaultBackend: backend('gone'),
      rules: [
        { host: '', paths: [{ path: '/x', pathType: 'Prefix', backend: backend('hl', 'http') }] },
        { host: '*.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('web') }] },
        { host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 8080) }] },
      ],
    };
    const headless = svc('hl', { clusterIP: undefined, endpoints: [
      { ip: '10.42.1.5', ready: true, ports: { http: 8080 } },
      { ip: '10.42.2.5', ready: false, ports: { http: 8080 } },
      { ip: '10.42.3.5', ready: true, terminating: true, ports: { http: 8080 } },
    ] });
    const routes = (caddyConfig(input([ing], [svc('web'), headless])) as { apps: { http: { servers: { http: { routes: unknown[] } } } } }).apps.http.servers.http.routes;
    expect(routes).toEqual([
      // a.example.com names port 8080, which the Service does not have: 503, not a wrong port.
      { match: [{ host: ['a.example.com'] }], handle: [{ handler: 'static_response', status_code: 503, body: 'no endpoints for service default/web\n' }], terminal: true },
      { match: [{ host: ['*.example.com'] }], handle: proxy('10.43.0.10:80'), terminal: true },
      { match: [{ path: ['/x', '/x/*'] }], handle: proxy('10.42.1.5:8080'), terminal: true },
      { handle: [{ handler: 'static_response', status_code: 503, body: 'no endpoints for service default/gone\n' }], terminal: true },
      NOT_FOUND,
    ]);
  });

  it('serves HTTPS with the certificates of the named Secrets it has, by SNI; none without certificates', () => {
    const ing: IngressView = { namespace: 'shop', name: 'web', tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }, { hosts: [], secretName: 'absent' }], rules: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('web') }] }] };
    const certs = new Map([['shop/shop-tls', { certPem: 'CERT', keyPem: 'KEY' }], ['other/x', { certPem: 'C2', keyPem: 'K2' }]]);
    const config = caddyConfig(input([ing], [svc('web', { namespace: 'shop' })], certs)) as { apps: { http: { servers: Record<string, { listen: string[]; routes: unknown[]; tls_connection_policies?: unknown }> }; tls?: unknown } };
    expect(config.apps.tls).toEqual({ certificates: { load_pem: [{ certificate: 'CERT', key: 'KEY', tags: ['shop/shop-tls'] }] } });
    expect(config.apps.http.servers.https).toMatchObject({ listen: [':443'], tls_connection_policies: [{}] });
    expect(config.apps.http.servers.https!.routes).toEqual(config.apps.http.servers.http!.routes);
    const plain = caddyConfig(input([ing], [svc('web', { namespace: 'shop' })])) as { apps: { http: { servers: Record<string, unknown> }; tls?: unknown } };
    expect(Object.keys(plain.apps.http.servers)).toEqual(['http']);
    expect(plain.apps.tls).toBeUndefined();
  });
});

describe('ingressViews (objects → what ingress nodes get)', () => {
  const ingress = (name: string, spec: Ingress['spec']): Ingress => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' }, spec });
  const cls = (name: string, controller: string, isDefault = false): IngressClass => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) }, spec: { controller } });
  const spec = (ingressClassName?: string): Ingress['spec'] => ({ ...(ingressClassName ? { ingressClassName } : {}), tls: [{ secretName: 't' }], rules: [{ host: 'a.example.com', http: { paths: [{ pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] });

  it('keeps Grove\'s classes (and unclassed Ingresses when Grove\'s class is the default or there is no class)', () => {
    const all = [ingress('b', spec('grove')), ingress('a', spec()), ingress('c', spec('nginx'))];
    expect(ingressViews(all, []).map((v) => v.name)).toEqual(['a']);
    expect(ingressViews(all, [cls('grove', 'grove.io/ingress-caddy', true), cls('nginx', 'k8s.io/ingress-nginx')]).map((v) => v.name)).toEqual(['a', 'b']);
    expect(ingressViews(all, [cls('grove', 'grove.io/ingress-caddy'), cls('nginx', 'k8s.io/ingress-nginx', true)]).map((v) => v.name)).toEqual(['b']);
  });

  it('serves ImplementationSpecific as Prefix and keeps Secrets by reference', () => {
    expect(ingressViews([ingress('a', spec())], [])).toEqual([{ namespace: 'default', name: 'a', rules: [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: 'http' } }] }], tls: [{ hosts: [], secretName: 't' }] }]);
  });
});
