import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { serviceAllocationHook } from '../../src/server/network/service-allocation.js';
import { networkSettings } from '../../src/server/network/network-settings.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { Service } from '../../src/core/objects/service.js';
import { isGroveError } from '../../src/core/errors.js';
import { ManualClock } from '../support/manual-clock.js';

let objects: ObjectStore;

beforeEach(async () => {
  const settings = networkSettings({ serviceCIDR: '10.43.0.0/29', serviceNodePortRange: '30000-30002' });
  objects = new ObjectStore({ store: new MemoryStore(), clock: new ManualClock(), hooks: [serviceAllocationHook(settings)] });
  await ensureDefaultNamespace(objects);
});

const svc = (name: string, spec: Record<string, unknown> = {}): AnyObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } }) as AnyObject;

async function put(o: AnyObject): Promise<Service> {
  const { results } = await objects.commit([{ op: 'put', object: o }]);
  return results[0]!.object as Service;
}

async function refusal(o: AnyObject): Promise<string[]> {
  try {
    await put(o);
  } catch (err) {
    if (!isGroveError(err)) throw err;
    return ((err.details as { causes: { field: string; message: string }[] }).causes ?? []).map((c) => `${c.field}: ${c.message}`);
  }
  throw new Error('not refused');
}

describe('Service allocation in the write', () => {
  it('hands out addresses in order, skips taken ones, and the defaults Kubernetes fills', async () => {
    const a = await put(svc('a'));
    expect(a.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '10.43.0.1', clusterIPs: ['10.43.0.1'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', sessionAffinity: 'None', ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
    await put(svc('b', { clusterIP: '10.43.0.3' }));
    expect((await put(svc('c'))).spec?.clusterIP).toBe('10.43.0.2');
    expect((await put(svc('d'))).spec?.clusterIP).toBe('10.43.0.4');
  });

  it('refuses a taken or out-of-range address and a full range, as Kubernetes words them', async () => {
    await put(svc('a', { clusterIP: '10.43.0.5' }));
    expect(await refusal(svc('b', { clusterIP: '10.43.0.5' }))).toEqual(['spec.clusterIPs[0]: Invalid value: "10.43.0.5": failed to allocate IP 10.43.0.5: provided IP is already allocated']);
    expect(await refusal(svc('b', { clusterIP: '10.0.0.1' }))).toEqual(['spec.clusterIPs[0]: Invalid value: "10.0.0.1": failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/29']);
    for (const n of ['b', 'c', 'd', 'e', 'f']) await put(svc(n));
    expect(await refusal(svc('g'))).toEqual(['spec.clusterIPs[0]: failed to allocate a service IP: the range 10.43.0.0/29 is full']);
    expect(await objects.get({ kind: 'Service', namespace: 'default', name: 'g' })).toBeUndefined();
  });

  it('releases on delete, keeps the address on an update without it, and refuses changing it', async () => {
    const a = await put(svc('a'));
    const again = await objects.commit([{ op: 'put', object: svc('a') }]);
    expect(again.results[0]).toMatchObject({ outcome: 'unchanged' });
    expect(await refusal(svc('a', { clusterIP: '10.43.0.4' }))).toEqual(['spec.clusterIP: Invalid value: "10.43.0.4": field is immutable']);
    await objects.commit([{ op: 'delete', ref: { kind: 'Service', namespace: 'default', name: 'a' } }]);
    expect((await put(svc('b', { clusterIP: a.spec!.clusterIP }))).spec?.clusterIP).toBe('10.43.0.1');
  });

  it('allocates within one commit without handing an address out twice', async () => {
    const { results } = await objects.commit([{ op: 'put', object: svc('a') }, { op: 'put', object: svc('b') }, { op: 'delete', ref: { kind: 'Service', namespace: 'default', name: 'a' } }, { op: 'put', object: svc('c') }]);
    expect(results.map((r) => (r.object as Service | undefined)?.spec?.clusterIP)).toEqual([undefined, '10.43.0.2', undefined, '10.43.0.3']);
  });

  it('gives headless and ExternalName Services no address', async () => {
    expect((await put(svc('h', { clusterIP: 'None', ports: [] }))).spec).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'] });
    const ext = await put(svc('x', { type: 'ExternalName', externalName: 'db.example.com', selector: undefined, ports: undefined }));
    expect(ext.spec?.clusterIP).toBeUndefined();
    expect((await put(svc('y'))).spec?.clusterIP).toBe('10.43.0.1');
  });

  it('allocates node ports, keeps them on update, and refuses taken or out-of-range ones with the field path', async () => {
    const a = await put(svc('a', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30001 }] }));
    expect(a.spec?.ports?.map((p) => p.nodePort)).toEqual([30000, 30001]);
    expect(a.spec).toMatchObject({ externalTrafficPolicy: 'Cluster' });
    const again = await objects.commit([{ op: 'put', object: svc('a', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30001 }] }) }]);
    expect(again.results[0]).toMatchObject({ outcome: 'unchanged' });
    expect(await refusal(svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }))).toEqual(['spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated']);
    expect(await refusal(svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toEqual(['spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-30002']);
    const lb = await put(svc('lb', { type: 'LoadBalancer' }));
    expect(lb.spec?.ports?.[0]?.nodePort).toBe(30002);
    expect(await refusal(svc('c', { type: 'NodePort' }))).toEqual(['spec.ports[0].nodePort: failed to allocate a node port: the range 30000-30002 is full']);
    // Back to ClusterIP: the node ports go, and are free again.
    await put(svc('a', { type: 'ClusterIP', ports: [{ name: 'http', port: 80 }] }));
    expect((await put(svc('c', { type: 'NodePort' }))).spec?.ports?.[0]?.nodePort).toBe(30000);
  });

  it('defaults ClientIP affinity to 3 hours', async () => {
    expect((await put(svc('a', { sessionAffinity: 'ClientIP' }))).spec?.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });
});

describe('network settings', () => {
  it('refuses overlapping ranges and bad values with one clear line', () => {
    expect(() => networkSettings({ serviceCIDR: '10.42.128.0/17' })).toThrow('--cluster-cidr 10.42.0.0/16 and --service-cidr 10.42.128.0/17 overlap');
    expect(() => networkSettings({ serviceCIDR: '10.43.0.1/16' })).toThrow('has host bits set: did you mean 10.43.0.0/16?');
    expect(() => networkSettings({ serviceNodePortRange: '32767-30000' })).toThrow('is not a port range');
    expect(() => networkSettings({ clusterDomain: 'Bad_Domain' })).toThrow('--cluster-domain');
    expect(networkSettings().nodePorts).toEqual({ first: 30000, last: 32767 });
  });
});
