/**
 * The Ingress status controller (src/server/controllers/ingress-status.ts) and its events
 * (src/server/events/ingress-events.ts): ADDRESS = the Ready ingress nodes' InternalIPs, written
 * only on change; a TLS Secret that cannot be served is recorded on port 443 and said once as a
 * Warning event naming the Secret.
 */
import { describe, expect, it } from 'vitest';
import type { KindObject } from '../../src/core/objects/validate.js';
import { ingressStatusController } from '../../src/server/controllers/ingress-status.js';
import { controllerEvents } from '../../src/server/events/controller-events.js';
import { selfSignedCert } from '../support/tls-cert.js';
import { node, obj, pass, snapshot, world, type World } from './controller-fixtures.js';

const INGRESS_LABEL = { 'node-role.kubernetes.io/ingress': 'true' };
const withIP = (n: KindObject<'Node'>, ip: string) => ({ ...n, status: { ...n.status, addresses: [{ type: 'InternalIP' as const, address: ip }] } });
const cert = selfSignedCert(['shop.example.com']);
const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');

const ingress = (name: string, o: { className?: string; tls?: string } = {}) =>
  obj('Ingress', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', uid: `uid-ing-${name}`, resourceVersion: '1' },
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      ...(o.tls ? { tls: [{ hosts: ['shop.example.com'], secretName: o.tls }] } : {}),
      rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
  });

const secret = (name: string, type: string, data: Record<string, string>, rv = '1') =>
  obj('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default', resourceVersion: rv }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });

const addresses = (w: World) => w.objects.Ingress.map((i) => i.status?.loadBalancer?.ingress?.map((e) => e.ip));

describe('Ingress status controller', () => {
  it('lists the Ready ingress nodes\' InternalIPs on the Ingresses Grove serves; rewritten only on change', () => {
    const foreignClass = obj('IngressClass', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } });
    const groveClass = obj('IngressClass', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'grove', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'grove.io/ingress-caddy' } });
    const w = world([
      withIP(node('a', { labels: INGRESS_LABEL }), '192.168.1.12'),
      withIP(node('b', { labels: INGRESS_LABEL }), '192.168.1.11'),
      withIP(node('c'), '192.168.1.13'),
      withIP(node('d', { labels: INGRESS_LABEL, ready: false, since: 0 }), '192.168.1.14'),
      groveClass,
      foreignClass,
      ingress('web'),
      ingress('theirs', { className: 'nginx' }),
    ]);
    const controller = ingressStatusController();
    const changes = pass(w, controller);
    expect(changes.map((c) => (c.op === 'status' ? c.ref.name : c.op))).toEqual(['web']);
    expect(addresses(w)).toEqual([['192.168.1.11', '192.168.1.12'], undefined]);
    expect(w.objects.Ingress[0]!.status).toEqual({ loadBalancer: { ingress: [{ ip: '192.168.1.11' }, { ip: '192.168.1.12' }] } });
    expect(pass(w, controller)).toEqual([]);

    // The label leaves a node: its address leaves the status; no ingress node at all: an empty loadBalancer.
    w.objects.Node = [withIP(node('a', { labels: INGRESS_LABEL }), '192.168.1.12'), withIP(node('b'), '192.168.1.11')];
    pass(w, controller);
    expect(addresses(w)).toEqual([['192.168.1.12'], undefined]);
    w.objects.Node = [withIP(node('b'), '192.168.1.11')];
    pass(w, controller);
    expect(w.objects.Ingress[0]!.status).toEqual({ loadBalancer: {} });
    expect(pass(w, controller)).toEqual([]);
  });

  it('records a TLS Secret it cannot serve on port 443 and says so once, by name, until the error changes', () => {
    const nodes = [withIP(node('a', { labels: INGRESS_LABEL }), '192.168.1.12')];
    const w = world([...nodes, ingress('shop', { tls: 'shop-tls' })]);
    const controller = ingressStatusController();
    // The events of one pass, from the snapshot the controller decided on (as the loop gives them).
    const step = () => {
      const decidedOn = snapshot(world([...w.objects.Node, ...w.objects.Ingress, ...w.objects.Secret]));
      const changes = pass(w, controller);
      return controllerEvents('ingress-status', decidedOn, changes).map((e) => `${e.type} ${e.reason} ${e.involved.kind}/${e.involved.name}: ${e.message}`);
    };
    expect(step()).toEqual(['Warning TLSSecretNotFound Ingress/shop: TLS Secret default/shop-tls not found: shop.example.com served on HTTP only']);
    expect(w.objects.Ingress[0]!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.168.1.12', ports: [{ port: 443, protocol: 'TCP', error: 'grove.io/TLSSecretNotFound' }] }]);
    expect(step()).toEqual([]);

    // Another address, same error: the status moves, nothing is said again.
    w.objects.Node = [...nodes, withIP(node('b', { labels: INGRESS_LABEL }), '192.168.1.13')];
    expect(step()).toEqual([]);
    expect(addresses(w)).toEqual([['192.168.1.12', '192.168.1.13']]);

    w.objects.Secret = [secret('shop-tls', 'Opaque', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem })];
    expect(step()).toEqual(['Warning TLSSecretWrongType Ingress/shop: Secret default/shop-tls is of type Opaque, not kubernetes.io/tls: shop.example.com served on HTTP only']);
    w.objects.Secret = [secret('shop-tls', 'kubernetes.io/tls', { 'tls.crt': cert.certPem, 'tls.key': 'not a key' }, '2')];
    expect(step()).toEqual(['Warning TLSSecretInvalid Ingress/shop: TLS Secret default/shop-tls tls.key is not one unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY): shop.example.com served on HTTP only']);
    // Fixed: the error leaves the status, silently.
    w.objects.Secret = [secret('shop-tls', 'kubernetes.io/tls', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }, '3')];
    expect(step()).toEqual([]);
    expect(w.objects.Ingress[0]!.status!.loadBalancer!.ingress).toEqual([{ ip: '192.168.1.12' }, { ip: '192.168.1.13' }]);
  });
});
