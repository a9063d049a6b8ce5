import { describe, expect, it } from 'vitest';
import type { App } from '../../src/core/resolved-pod.js';
import { appHostPorts, schedule } from '../../src/server/scheduler.js';
import { app, fakeHash, node, pod, suffixes } from './server-fixtures.js';

function withHostPort(a: App, hostPort: number, protocol: 'TCP' | 'UDP' = 'TCP'): App {
  a.spec.template.containers[0]!.ports = [{ containerPort: 80, hostPort, protocol }];
  return a;
}

describe('scheduler: hostPorts (Kubernetes NodePorts filter)', () => {
  it('lists the hostPorts an app claims', () => {
    expect(appHostPorts(withHostPort(app('web'), 8080))).toEqual(['8080/TCP']);
    expect(appHostPorts(app('web'))).toEqual([]);
  });

  it('places pods claiming one hostPort only where nobody claims it; the rest are Pending with the reason', () => {
    const web = withHostPort(app('web', { replicas: 1 }), 8080);
    const api = withHostPort(app('api', { replicas: 2 }), 8080);
    const filler = app('filler', { replicas: 3 });
    const assignments = [pod('web-1', 'web', 'a', fakeHash(web)), ...['f1', 'f2', 'f3'].map((n) => pod(n, 'filler', 'b', fakeHash(filler)))];
    const r = schedule({ apps: [web, api, filler], nodes: [node('a'), node('b')], assignments, templateHash: fakeHash, nameSuffix: suffixes() });
    // b is fuller but a's port is taken: the first api pod goes to b; the second clashes everywhere.
    expect(r.create.map((p) => `${p.app}@${p.node ?? 'Pending'}`)).toEqual(['api@b', 'api@Pending']);
    expect(r.create[1]!.unschedulable).toBe("0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports");
  });

  it('extra replicas of a one-node app with a hostPort are Pending, not sent to the node to fail there', () => {
    const web = withHostPort(app('web', { replicas: 3 }), 8080);
    const r = schedule({ apps: [web], nodes: [node('a')], assignments: [], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(r.create.map((p) => [p.meta.name, p.node, p.unschedulable])).toEqual([
      ['web-hash10-s0001', 'a', undefined],
      ['web-hash10-s0002', undefined, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports"],
      ['web-hash10-s0003', undefined, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports"],
    ]);
  });

  it('other protocols and other ports do not clash', () => {
    const web = withHostPort(app('web'), 8080);
    const dns = withHostPort(app('dns'), 8080, 'UDP');
    const r = schedule({ apps: [web, dns], nodes: [node('a'), node('b')], assignments: [pod('web-1', 'web', 'a', fakeHash(web)), pod('x', 'web', 'b', fakeHash(web))], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(r.create.map((p) => `${p.app}@${p.node}`)).toEqual(['dns@a']);
  });
});

describe('scheduler: rolling updates of apps with hostPorts', () => {
  it('a one-node Deployment may lose its old pod before the new one is available (else it would wait for ever)', () => {
    const v1 = withHostPort(app('web', { replicas: 1 }), 8080);
    const v2 = withHostPort(app('web', { replicas: 1, version: '2' }), 8080);
    const r = schedule({ apps: [v2], nodes: [node('a')], assignments: [pod('web-1', 'web', 'a', fakeHash(v1))], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(r.delete).toEqual(['web-1']);
    expect(r.create.map((p) => `${p.templateHash.slice(0, 5)}@${p.node}`)).toEqual(['hash2@a']);
    // Without hostPorts the default surge keeps the old pod until the new one is available.
    const plain = schedule({ apps: [app('web', { replicas: 1, version: '2' })], nodes: [node('a')], assignments: [pod('web-1', 'web', 'a', fakeHash(app('web')))], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(plain.delete).toEqual([]);
  });

  it('a DaemonSet with hostPorts never surges beside its old pod', () => {
    const ds = (version: string) => withHostPort(app('agent', { kind: 'DaemonSet', version, strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 } }), 9100);
    const r = schedule({ apps: [ds('2')], nodes: [node('a')], assignments: [pod('agent-1', 'agent', 'a', fakeHash(ds('1')))], templateHash: fakeHash, nameSuffix: suffixes() });
    expect(r.delete).toEqual(['agent-1']);
    expect(r.create.map((p) => p.node)).toEqual(['a']);
  });
});
