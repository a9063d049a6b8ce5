import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { serviceAllocationHook } from '../../src/server/network/service-allocation.js';
import { networkSettings } from '../../src/server/network/network-settings.js';
import { NetworkPublisher } from '../../src/server/network/network-publisher.js';
import { createLogger } from '../../src/core/logger.js';
import { decodeNetworkCluster, decodeNetworkService } from '../../src/core/wire-network.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { ManualClock } from '../support/manual-clock.js';

const settings = networkSettings();
let objects: ObjectStore;
let sent: { topic: string; payload: Buffer }[];
let publisher: NetworkPublisher;

/** A Node with its InternalIP (status) in one commit. */
const putNode = (name: string, ip: string, extra: Record<string, unknown> = {}) =>
  objects.commit([
    { op: 'put', object: { apiVersion: 'v1', kind: 'Node', metadata: { name, ...extra }, spec: { podCIDR: '10.42.1.0/24' } } as unknown as AnyObject },
    { op: 'status', ref: { kind: 'Node', name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } },
  ]);
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } } as unknown as AnyObject;
const slice = (ready: boolean) =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [{ addresses: ['10.42.1.5'], nodeName: 'pi-1', conditions: { ready }, targetRef: { kind: 'Pod', namespace: 'default', name: 'web-x' } }],
  }) as unknown as AnyObject;

/** What was sent since the last call, decoded: "<topic> <revision> <summary>". */
function drain(): string[] {
  const out = sent.map(({ topic, payload }) => {
    const short = topic.replace('grove/v1/home/network/', '');
    if (payload.length === 0) return `${short} (cleared)`;
    if (short === 'cluster') {
      const m = decodeNetworkCluster(payload);
      return `${short} r${m.revision} nodes=${m.nodes.map((n) => `${n.name}@${n.internalIP}`).join(',')} services=${JSON.stringify(m.services)}`;
    }
    const m = decodeNetworkService(payload);
    return `${short} r${m.revision} ${m.service.clusterIP} ${m.service.endpoints.map((e) => `${e.ip}:${e.ports.http} ready=${e.ready}`).join(',')}`;
  });
  sent = [];
  return out;
}

beforeEach(async () => {
  const clock = new ManualClock();
  objects = new ObjectStore({ store: new MemoryStore(), clock, hooks: [serviceAllocationHook(settings)] });
  await ensureDefaultNamespace(objects);
  await putNode('pi-1', '192.168.1.10');
  sent = [];
  publisher = new NetworkPublisher({ objects, cluster: 'home', settings, clock, logger: createLogger({ level: 'silent' }), publish: async (topic, payload) => void sent.push({ topic, payload }) });
  await publisher.start();
});

describe('network publisher', () => {
  it('publishes the index at start, then only what changed, Services before the index', async () => {
    expect(drain()).toEqual(['cluster r2 nodes=pi-1@192.168.1.10 services={}']);
    await objects.commit([{ op: 'put', object: service }, { op: 'put', object: slice(true) }]);
    await publisher.idle();
    expect(drain()).toEqual(['services/default/web r3 10.43.0.1 10.42.1.5:8080 ready=true', 'cluster r3 nodes=pi-1@192.168.1.10 services={"default/web":3}']);
    // The same objects again, or a change the view does not carry (a label): nothing.
    await objects.commit([{ op: 'put', object: slice(true) }]);
    await putNode('pi-1', '192.168.1.10', { labels: { zone: 'a' } });
    await publisher.idle();
    expect(drain()).toEqual([]);
    await objects.commit([{ op: 'put', object: slice(false) }]);
    await publisher.idle();
    expect(drain()).toEqual(['services/default/web r5 10.43.0.1 10.42.1.5:8080 ready=false', 'cluster r5 nodes=pi-1@192.168.1.10 services={"default/web":5}']);
    // A node joining changes the index only.
    await putNode('pi-2', '192.168.1.11');
    await publisher.idle();
    expect(drain()).toEqual(['cluster r6 nodes=pi-1@192.168.1.10,pi-2@192.168.1.11 services={"default/web":5}']);
    await objects.commit([{ op: 'delete', ref: { kind: 'Service', namespace: 'default', name: 'web' } }]);
    await publisher.idle();
    expect(drain()).toEqual(['services/default/web (cleared)', 'cluster r7 nodes=pi-1@192.168.1.10,pi-2@192.168.1.11 services={}']);
  });

  it('coalesces a burst into one publication, and republishes everything with the same revisions after a reconnection', async () => {
    drain();
    await objects.commit([{ op: 'put', object: service }]);
    await objects.commit([{ op: 'put', object: slice(true) }]);
    await publisher.idle();
    expect(drain()).toHaveLength(2);
    publisher.republishAll();
    await publisher.idle();
    expect(drain()).toEqual(['services/default/web r4 10.43.0.1 10.42.1.5:8080 ready=true', 'cluster r4 nodes=pi-1@192.168.1.10 services={"default/web":4}']);
  });

  it('carries the Ingresses Grove serves in the index (absent when there are none), and only those of its class', async () => {
    drain();
    const ingress = (name: string, ingressClassName?: string) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' }, spec: { ...(ingressClassName ? { ingressClassName } : {}), rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } }) as unknown as AnyObject;
    await objects.commit([{ op: 'put', object: ingress('shop') }, { op: 'put', object: ingress('blog', 'nginx') }]);
    await publisher.idle();
    const index = () => decodeNetworkCluster(sent.at(-1)!.payload);
    expect(index().ingresses).toEqual([{ namespace: 'default', name: 'shop', rules: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: 80 } }] }], tls: [] }]);
    drain();
    await objects.commit([{ op: 'delete', ref: { kind: 'Ingress', namespace: 'default', name: 'shop' } }]);
    await publisher.idle();
    expect(index().ingresses).toBeUndefined();
    // The ingress label marks the node that runs the proxy.
    await putNode('pi-1', '192.168.1.10', { labels: { 'node-role.kubernetes.io/ingress': 'true' } });
    await publisher.idle();
    expect(index().nodes).toEqual([{ name: 'pi-1', internalIP: '192.168.1.10', podCIDR: '10.42.1.0/24', ingress: true }]);
  });
});
