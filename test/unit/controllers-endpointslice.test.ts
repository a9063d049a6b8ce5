import { describe, expect, it } from 'vitest';
import { endpointSliceController, servicePortProblems } from '../../src/server/controllers/endpointslice.js';
import { serviceLoadBalancerController } from '../../src/server/controllers/service-lb.js';
import { controllerEvents } from '../../src/server/events/controller-events.js';
import type { EndpointSlice, Service } from '../../src/core/objects/service.js';
import type { KindObject } from '../../src/core/objects/validate.js';
import { container, node, obj, pass, pod, report, snapshot, world, type World } from './controller-fixtures.js';

function service(name: string, spec: Record<string, unknown> = {}): Service {
  return obj('Service', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `uid-svc-${name}` }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } });
}

/** A running pod on `nodeName` with IP `ip`, its container port "http" at `port`. */
function webPod(name: string, nodeName: string, ip: string, o: { ready?: boolean; port?: number | null } = {}): KindObject<'Pod'> {
  const ports = o.port === null ? [] : [{ name: 'http', containerPort: o.port ?? 8080 }];
  const p = pod(name, { node: nodeName, labels: { app: 'web' }, containers: [container('web', { ports })] });
  return { ...p, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] } };
}

const slices = (w: World) => w.objects.EndpointSlice as EndpointSlice[];
const endpoints = (w: World) => slices(w).flatMap((s) => s.endpoints.map((e) => `${e.addresses[0]} ready=${e.conditions?.ready} ${e.nodeName}`));

describe('EndpointSlice controller', () => {
  it('makes one slice of the selected pods, named ports resolved per pod, labelled and owned; nothing more when unchanged', () => {
    const w = world([node('a'), node('b'), service('web'), webPod('web-1', 'a', '10.42.0.5'), webPod('web-2', 'b', '10.42.1.5', { ready: false }), { ...webPod('other', 'a', '10.42.0.9'), metadata: { ...webPod('other', 'a', '10.42.0.9').metadata, labels: { app: 'db' } } }]);
    const changes = pass(w, endpointSliceController());
    expect(changes).toHaveLength(1);
    const [slice] = slices(w);
    expect(slice!.metadata.labels).toEqual({ 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.grove.io' });
    expect(slice!.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-svc-web', controller: true, blockOwnerDeletion: true }]);
    expect(slice!.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(endpoints(w)).toEqual(['10.42.0.5 ready=true a', '10.42.1.5 ready=false b']);
    expect(slice!.endpoints[0]!.targetRef).toEqual({ kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-web-1' });
    expect(pass(w, endpointSliceController())).toEqual([]);
  });

  it('takes a dead node\'s endpoints out as soon as its session drops, and a NotReady node\'s', () => {
    const w = world([node('a'), node('b'), service('web'), webPod('web-1', 'a', '10.42.0.5'), webPod('web-2', 'b', '10.42.1.5')]);
    pass(w, endpointSliceController());
    w.reports.set('b', report('b', [], { online: false }));
    pass(w, endpointSliceController());
    expect(endpoints(w)).toEqual(['10.42.0.5 ready=true a', '10.42.1.5 ready=false b']);
    w.reports.clear();
    w.objects.Node = [node('a', { ready: false, since: 0 }), node('b')];
    pass(w, endpointSliceController());
    expect(endpoints(w)).toEqual(['10.42.0.5 ready=false a', '10.42.1.5 ready=true b']);
  });

  it('groups pods whose port names resolve differently, leaves out a pod without the port, and says why', () => {
    const w = world([node('a'), service('web'), webPod('web-1', 'a', '10.42.0.5'), webPod('web-2', 'a', '10.42.0.6', { port: 9090 }), webPod('web-3', 'a', '10.42.0.7', { port: null })]);
    const changes = pass(w, endpointSliceController());
    expect(slices(w).map((s) => `${s.ports?.[0]?.port}: ${s.endpoints.map((e) => e.addresses[0]).join(',')}`).sort()).toEqual(['8080: 10.42.0.5', '9090: 10.42.0.6']);
    const events = controllerEvents('endpointslice', snapshot(world([...w.objects.Pod, ...w.objects.Service, ...w.objects.Node])), changes);
    expect(events.map((e) => `${e.type} ${e.reason} ${e.involved.kind}/${e.involved.name}: ${e.message}`)).toEqual([
      'Warning PortNameNotFound Service/web: no container port named "http" (TCP) in pod web-3: left out of the Service\'s endpoints',
    ]);
  });

  it('leaves an empty slice for a selector matching nothing (an event once), numbers by targetPort, removes slices of a selector removed', () => {
    const w = world([node('a'), service('web', { selector: { app: 'nothing' }, ports: [{ port: 80 }] })]);
    const changes = pass(w, endpointSliceController());
    expect(slices(w).map((s) => [s.endpoints.length, s.ports])).toEqual([[0, []]]);
    expect(servicePortProblems(w.objects.Service[0]!, [])).toEqual([{ reason: 'NoPodsSelected', message: 'selector app=nothing matches no pod in namespace default: the Service has no endpoints' }]);
    expect(controllerEvents('endpointslice', snapshot(w), changes).map((e) => e.reason)).toEqual(['NoPodsSelected']);
    expect(pass(w, endpointSliceController())).toEqual([]);
    w.objects.Service = [service('web', { selector: undefined, ports: [{ port: 80 }] })];
    expect(pass(w, endpointSliceController()).map((c) => c.op)).toEqual(['delete']);
    expect(slices(w)).toEqual([]);
  });

  it('publishNotReadyAddresses makes every endpoint ready; a pod being deleted is terminating, not ready', () => {
    const deleting = webPod('web-2', 'a', '10.42.0.6');
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' };
    const w = world([node('a'), service('web'), webPod('web-1', 'a', '10.42.0.5', { ready: false }), deleting]);
    pass(w, endpointSliceController());
    expect(slices(w)[0]!.endpoints.map((e) => e.conditions)).toEqual([{ ready: false, serving: false, terminating: false }, { ready: false, serving: true, terminating: true }]);
    w.objects.Service = [service('web', { publishNotReadyAddresses: true })];
    pass(w, endpointSliceController());
    expect(slices(w)[0]!.endpoints.map((e) => e.conditions?.ready)).toEqual([true, true]);
  });
});

describe('ServiceLB status', () => {
  const withIP = (n: KindObject<'Node'>, ip: string) => ({ ...n, status: { ...n.status, addresses: [{ type: 'InternalIP' as const, address: ip }] } });

  it('lists the Ready nodes\' InternalIPs, or only the labelled nodes\' when any node is labelled; rewritten only on change', () => {
    const w = world([withIP(node('a'), '192.168.1.2'), withIP(node('b'), '192.168.1.3'), withIP(node('c', { ready: false, since: 0 }), '192.168.1.4'), service('lb', { type: 'LoadBalancer' }), service('plain')]);
    pass(w, serviceLoadBalancerController());
    expect(w.objects.Service.map((s) => s.status?.loadBalancer?.ingress?.map((i) => i.ip))).toEqual([['192.168.1.2', '192.168.1.3'], undefined]);
    expect(pass(w, serviceLoadBalancerController())).toEqual([]);
    w.objects.Node = [withIP(node('a'), '192.168.1.2'), withIP(node('b', { labels: { 'svccontroller.k3s.cattle.io/enablelb': 'true' } }), '192.168.1.3')];
    pass(w, serviceLoadBalancerController());
    expect(w.objects.Service[0]!.status?.loadBalancer?.ingress).toEqual([{ ip: '192.168.1.3', ipMode: 'VIP' }]);
  });
});
