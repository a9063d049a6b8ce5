/**
 * Ingress TLS (docs/networking.md "Ingress"): the check of a kubernetes.io/tls Secret's PEMs
 * (src/core/network/tls-pair.ts), what is wrong with an Ingress' Secrets and which nodes get them
 * (src/server/network/ingress-tls-secrets.ts), and the whole server path: the target pass seals
 * them into the bundle of ingress nodes only (target-publisher.ts + config-distributor.ts).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { checkTlsPair, TLS_PEM_LIMITS } from '../../src/core/network/tls-pair.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { Node } from '../../src/core/objects/cluster.js';
import type { Secret } from '../../src/core/objects/config.js';
import type { Ingress, IngressClass } from '../../src/core/objects/ingress.js';
import { decodeConfigMessage, openConfigBundle } from '../../src/core/wire-config.js';
import { bundleDigest, ConfigDistributor, withExtraRefs } from '../../src/server/config-distributor.js';
import { ingressTlsProblems, ingressTlsSecretRefs } from '../../src/server/network/ingress-tls-secrets.js';
import { newNodeKey } from '../../src/server/node-keys.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { joinedNode } from '../../src/server/objects/node-object.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { TargetPublisher } from '../../src/server/objects/target-publisher.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { selfSignedCert } from '../support/tls-cert.js';
import { fixtureClock } from './server-fixtures.js';

const shop = selfSignedCert(['shop.example.com']);
const other = selfSignedCert(['other.example.com']);
const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');

const tlsSecret = (name: string, pems: { certPem: string; keyPem: string } = shop, type = 'kubernetes.io/tls', namespace = 'default'): Secret =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: { 'tls.crt': b64(pems.certPem), 'tls.key': b64(pems.keyPem) } }) as Secret;

const ingress = (name: string, secretNames: string[], extra: Partial<NonNullable<Ingress['spec']>> = {}, namespace = 'default'): Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace },
  spec: {
    tls: secretNames.map((secretName) => ({ hosts: [`${secretName}.example.com`], secretName })),
    rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    ...extra,
  },
});

const node = (name: string, ingressNode: boolean): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: ingressNode ? { 'node-role.kubernetes.io/ingress': 'true' } : {} } }) as Node;

describe('checkTlsPair', () => {
  it('takes a certificate and its own key', () => {
    expect(checkTlsPair({ 'tls.crt': shop.certPem, 'tls.key': shop.keyPem })).toEqual({ ok: true, pair: shop });
    // A chain: the leaf first, then more certificates.
    expect(checkTlsPair({ 'tls.crt': shop.certPem + other.certPem, 'tls.key': shop.keyPem }).ok).toBe(true);
  });

  it('says what is wrong without quoting the values', () => {
    const problem = (data: Record<string, string>) => {
      const r = checkTlsPair(data);
      return r.ok ? 'ok' : r.problem;
    };
    expect(problem({ 'tls.key': shop.keyPem })).toBe('has no tls.crt');
    expect(problem({ 'tls.crt': shop.certPem })).toBe('has no tls.key');
    expect(problem({ 'tls.crt': 'hello', 'tls.key': shop.keyPem })).toBe('tls.crt is not PEM CERTIFICATE blocks');
    expect(problem({ 'tls.crt': shop.keyPem, 'tls.key': shop.keyPem })).toBe('tls.crt is not PEM CERTIFICATE blocks');
    expect(problem({ 'tls.crt': `${shop.certPem}trailing words`, 'tls.key': shop.keyPem })).toBe('tls.crt is not PEM CERTIFICATE blocks');
    expect(problem({ 'tls.crt': shop.certPem, 'tls.key': shop.certPem })).toMatch(/^tls.key is not one unencrypted PEM private key/);
    expect(problem({ 'tls.crt': shop.certPem, 'tls.key': shop.keyPem.replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY').replace('END PRIVATE KEY', 'END ENCRYPTED PRIVATE KEY') })).toMatch(/^tls.key is not one unencrypted/);
    expect(problem({ 'tls.crt': shop.certPem, 'tls.key': other.keyPem })).toBe('tls.key is not the key of the first certificate in tls.crt');
    const corrupt = shop.certPem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
    expect(problem({ 'tls.crt': corrupt, 'tls.key': shop.keyPem })).toBe('tls.crt holds a certificate that does not parse');
    expect(problem({ 'tls.crt': shop.certPem, 'tls.key': shop.keyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA') })).toBe('tls.key does not parse as a private key');
    expect(problem({ 'tls.crt': shop.certPem.repeat(11), 'tls.key': shop.keyPem })).toBe('tls.crt holds 11 certificates: at most 10');
    expect(problem({ 'tls.crt': 'x'.repeat(TLS_PEM_LIMITS.certBytes + 1), 'tls.key': shop.keyPem })).toBe(`tls.crt is ${TLS_PEM_LIMITS.certBytes + 1} bytes: at most ${TLS_PEM_LIMITS.certBytes}`);
    expect(problem({ 'tls.crt': shop.certPem, 'tls.key': 'x'.repeat(TLS_PEM_LIMITS.keyBytes + 1) })).toMatch(/^tls.key is 16385 bytes/);
  });
});

describe('ingressTlsProblems', () => {
  it('one problem per Secret: missing, of the wrong type, or not a usable certificate; none when all are good', () => {
    const secrets = [tlsSecret('good'), tlsSecret('opaque', shop, 'Opaque'), tlsSecret('mismatch', { certPem: shop.certPem, keyPem: other.keyPem }), tlsSecret('elsewhere', shop, 'kubernetes.io/tls', 'team-b')];
    expect(ingressTlsProblems(ingress('web', ['good']), secrets)).toEqual([]);
    expect(ingressTlsProblems(ingress('web', ['good', 'gone', 'opaque', 'mismatch', 'elsewhere', 'gone']), secrets)).toEqual([
      { reason: 'TLSSecretNotFound', message: 'TLS Secret default/gone not found: gone.example.com, gone.example.com served on HTTP only' },
      { reason: 'TLSSecretWrongType', message: 'Secret default/opaque is of type Opaque, not kubernetes.io/tls: opaque.example.com served on HTTP only' },
      { reason: 'TLSSecretInvalid', message: 'TLS Secret default/mismatch tls.key is not the key of the first certificate in tls.crt: mismatch.example.com served on HTTP only' },
      // The Secret of another namespace is not the Ingress' Secret.
      { reason: 'TLSSecretNotFound', message: 'TLS Secret default/elsewhere not found: elsewhere.example.com served on HTTP only' },
    ]);
  });
});

describe('ingressTlsSecretRefs', () => {
  const classes: IngressClass[] = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'grove' }, spec: { controller: 'grove.io/ingress-caddy' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
  ];

  it('the existing kubernetes.io/tls Secrets of served Ingresses, for each ingress node and no other', () => {
    const secrets = [tlsSecret('a'), tlsSecret('b', shop, 'kubernetes.io/tls', 'team-b'), tlsSecret('opaque', shop, 'Opaque'), tlsSecret('foreign')];
    const ingresses = [
      ingress('one', ['a', 'opaque', 'missing'], { ingressClassName: 'grove' }),
      ingress('two', ['b'], { ingressClassName: 'grove' }, 'team-b'),
      // Another controller's Ingress: its Secret stays where it is.
      ingress('three', ['foreign'], { ingressClassName: 'nginx' }),
    ];
    const refs = ingressTlsSecretRefs([node('pi-1', true), node('pi-2', false), node('pi-3', true)], ingresses, classes, secrets);
    const expected = [{ kind: 'Secret', name: 'a', namespace: 'default' }, { kind: 'Secret', name: 'b', namespace: 'team-b' }];
    expect([...refs.keys()]).toEqual(['pi-1', 'pi-3']);
    expect(refs.get('pi-1')).toEqual(expected);
    expect(ingressTlsSecretRefs([node('pi-2', false)], ingresses, classes, secrets).size).toBe(0);
    expect(ingressTlsSecretRefs([node('pi-1', true)], [], classes, secrets).size).toBe(0);
  });

  it('merges into a node\'s own references once each, in the bundle\'s order', () => {
    const own = [{ kind: 'ConfigMap' as const, name: 'settings', namespace: 'default' }, { kind: 'Secret' as const, name: 'a', namespace: 'default' }];
    expect(withExtraRefs(own, [])).toEqual(own);
    expect(withExtraRefs(own, [{ kind: 'Secret', name: 'b', namespace: 'alpha' }, { kind: 'Secret', name: 'a', namespace: 'default' }])).toEqual([
      { kind: 'Secret', name: 'b', namespace: 'alpha' },
      ...own,
    ]);
  });
});

describe('a bundle carries a Secret\'s type when it is not Opaque', () => {
  it('counts it in the digest, so a node whose bundle lacks it is sent the bundle again; Opaque bundles keep their digest', () => {
    const key = Buffer.alloc(32, 7);
    const object = { kind: 'Secret' as const, name: 'shop-tls', version: '4', data: { a: 'b' } };
    const opaque = bundleDigest(key, [{ object, hash: 'h' }]);
    expect(bundleDigest(key, [{ object: { ...object, type: 'kubernetes.io/tls' }, hash: 'h' }])).not.toBe(opaque);
    // What the digest was before the field existed: kind, name, version, content hash.
    expect(opaque).toBe(createHmac('sha256', key).update(JSON.stringify([['Secret', 'shop-tls', '4', 'h']])).digest('hex'));
  });
});

describe('the target pass sends the Ingresses\' TLS Secrets to ingress nodes only', () => {
  it('seals them into the ingress node\'s bundle, nobody else\'s; follows the label and the Secret', async () => {
    const store = new MemoryStore();
    await store.open();
    const clock = fixtureClock();
    const objects = new ObjectStore({ store, clock });
    await ensureDefaultNamespace(objects);
    const keys = new Map<string, Buffer>();
    for (const n of ['pi-1', 'pi-2']) {
      const k = newNodeKey(n, new Date());
      keys.set(n, k.key);
      await store.commit([k.op]);
    }
    const labelled = { ...joinedNode('pi-1', {}) };
    labelled.metadata = { ...labelled.metadata, labels: { ...labelled.metadata.labels, 'node-role.kubernetes.io/ingress': 'true' } };
    await objects.commit([labelled, joinedNode('pi-2', {}), tlsSecret('shop-tls'), ingress('web', ['shop-tls'])].map((object) => ({ op: 'put' as const, object: object as AnyObject })));
    const sent: { topic: string; payload: Buffer }[] = [];
    const publish = async (topic: string, payload: Buffer) => void sent.push({ topic, payload });
    const configs = new ConfigDistributor({ objects, cluster: 'c1', logger: silentLogger(), publish });
    const publisher = new TargetPublisher({ objects, cluster: 'c1', logger: silentLogger(), clock, debounceMs: 1, configs, publish });
    const bundles = async () => {
      await publisher.idle();
      const out = sent.splice(0).filter((s) => s.topic.endsWith('/config'));
      return out.map((s) => [s.topic.split('/')[4], s.payload.length ? openConfigBundle(decodeConfigMessage(s.payload), keys.get(s.topic.split('/')[4]!)!).objects.map((o) => (types.push(o.type), [o.name, o.data])) : 'cleared']);
    };
    const types: (string | undefined)[] = [];
    await publisher.start();
    expect(await bundles()).toEqual([['pi-1', [['shop-tls', { 'tls.crt': shop.certPem, 'tls.key': shop.keyPem }]]]]);
    // The type rides along (through the bundle's validator): the node serves only kubernetes.io/tls Secrets.
    expect(types).toEqual(['kubernetes.io/tls']);

    // A new certificate reaches it; an unrelated change sends nothing.
    await objects.commit([{ op: 'put', object: tlsSecret('shop-tls', other) as AnyObject }]);
    expect(await bundles()).toEqual([['pi-1', [['shop-tls', { 'tls.crt': other.certPem, 'tls.key': other.keyPem }]]]]);
    await objects.commit([{ op: 'put', object: tlsSecret('unrelated') as AnyObject }]);
    expect(await bundles()).toEqual([]);

    // The label moves to pi-2: the certificate moves with it.
    const pi1 = (await objects.get({ kind: 'Node', name: 'pi-1' }))!;
    const pi2 = (await objects.get({ kind: 'Node', name: 'pi-2' }))!;
    await objects.commit([
      { op: 'put', object: { ...pi1, metadata: { ...pi1.metadata, labels: { ...pi1.metadata.labels, 'node-role.kubernetes.io/ingress': 'false' } } } as AnyObject },
      { op: 'put', object: { ...pi2, metadata: { ...pi2.metadata, labels: { ...pi2.metadata.labels, 'node-role.kubernetes.io/ingress': 'true' } } } as AnyObject },
    ]);
    expect(await bundles()).toEqual([['pi-1', []], ['pi-2', [['shop-tls', { 'tls.crt': other.certPem, 'tls.key': other.keyPem }]]]]);
    await publisher.stop();
    configs.stop();
  });
});
