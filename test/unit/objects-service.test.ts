import { describe, expect, it } from 'vitest';
import { checkObject } from '../../src/core/objects/validate.js';
import { pathText } from '../../src/core/objects/explain.js';
import { servicePortsText } from '../../src/core/objects/columns/columns-network.js';
import { columnsOf } from '../../src/core/objects/columns/index.js';
import type { KindObject } from '../../src/core/objects/validate.js';

const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec });
const problems = (spec: Record<string, unknown>) => {
  const r = checkObject('Service', svc(spec));
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
};

describe('Service rules', () => {
  it('needs ports (unless headless or ExternalName), named and unique when several', () => {
    expect(problems({ selector: { app: 'web' } })).toEqual(['spec.ports: Required value: a Service needs at least one port (only a headless Service, clusterIP: None, may have none)']);
    expect(problems({ clusterIP: 'None', selector: { app: 'web' } })).toEqual([]);
    expect(problems({ type: 'ExternalName', externalName: 'db.example.com' })).toEqual([]);
    expect(problems({ type: 'ExternalName' })).toEqual(['spec.externalName: Required value: an ExternalName Service names the host it stands for']);
    expect(problems({ ports: [{ port: 80 }, { port: 443 }] })).toEqual(['spec.ports[0].name: Required value: every port needs a name when a Service has several', 'spec.ports[1].name: Required value: every port needs a name when a Service has several']);
    expect(problems({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 443 }] })).toEqual(['spec.ports[1].name: Duplicate value: "a" is also ports[0]']);
  });

  it('refuses what a type does not have, and what Grove does not do, by name', () => {
    expect(problems({ ports: [{ port: 80, nodePort: 30080 }] })).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
    expect(problems({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })).toEqual(["spec.clusterIP: may not be set to 'None' for NodePort services"]);
    expect(problems({ ports: [{ port: 80 }], sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } })).toEqual(['spec.sessionAffinityConfig: must not be set when sessionAffinity is None']);
    expect(problems({ ports: [{ port: 80 }], externalIPs: ['1.2.3.4'] })).toEqual(['spec.externalIPs: not supported yet']);
    expect(problems({ type: 'NodePort', ports: [{ port: 80 }], externalTrafficPolicy: 'Local' })[0]).toContain('Local is not supported yet');
    expect(problems({ ports: [{ port: 80, targetPort: '8080' }] })).toEqual(['spec.ports[0].targetPort: must be a port number or a port name with at least one letter']);
  });

  it('prints kubectl\'s columns', () => {
    const lb = checkObject('Service', { ...svc({ type: 'LoadBalancer', ports: [{ name: 'h', port: 80, nodePort: 30080 }, { name: 'd', port: 53, protocol: 'UDP' }] }), status: { loadBalancer: { ingress: [{ ip: '192.168.1.20' }, { ip: '192.168.1.21' }] } } });
    if (!lb.ok) throw new Error('invalid');
    const object = lb.value as KindObject<'Service'>;
    expect(servicePortsText(object)).toBe('80:30080/TCP,53/UDP');
    const cols = columnsOf('Service');
    expect(cols.row(object as never, new Date())[3]).toBe('192.168.1.20,...');
    expect(cols.wide!(object as never, new Date())).toEqual(['<none>']);
  });
});

describe('grove describe svc', () => {
  it('shows kubectl\'s fields and the ready endpoints per port from the slices', async () => {
    const { describeService } = await import('../../src/cli/verbs/client/k8s/describe-service.js');
    const s = checkObject('Service', { ...svc({ type: 'NodePort', clusterIP: '10.43.0.7', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }] }) });
    if (!s.ok) throw new Error('invalid');
    const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default' }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.42.1.5'], conditions: { ready: true } }, { addresses: ['10.42.2.5'], conditions: { ready: false } }] } as unknown as KindObject<'EndpointSlice'>;
    const text = describeService(s.value as KindObject<'Service'>, [slice]);
    expect(text).toMatch(/^Selector:\s+app=web$/m);
    expect(text).toMatch(/^IP:\s+10\.43\.0\.7$/m);
    expect(text).toMatch(/^Port:\s+http  80\/TCP$/m);
    expect(text).toMatch(/^TargetPort:\s+http\/TCP$/m);
    expect(text).toMatch(/^NodePort:\s+http  30080\/TCP$/m);
    expect(text).toMatch(/^Endpoints:\s+10\.42\.1\.5:8080$/m);
  });
});
