import { describe, expect, it } from 'vitest';
import { ClusterRecords, CLUSTER_TTL, type ClusterAnswer } from '../../agent/src/agent/dns/cluster-records.js';
import { dnsTestView } from '../support/dns-view.js';
import type { Service } from '../../src/core/objects/service.js';
import { serviceView } from '../../src/server/network/network-view-builder.js';
import { decodeNetworkService, encodeNetworkService } from '../../src/core/wire-network.js';
import { WIRE_SCHEMA } from '../../src/core/wire-types.js';

const records = ClusterRecords.build(dnsTestView());

function answered(a: ClusterAnswer): Extract<ClusterAnswer, { kind: 'answer' }> {
  if (a.kind !== 'answer') throw new Error('expected an answer, got forward');
  return a;
}

const data = (a: ClusterAnswer): unknown[] => answered(a).answers.map((r) => ('data' in r ? r.data : undefined));

describe('cluster DNS records', () => {
  it('answers a ClusterIP service by its full name with A of the ClusterIP, TTL 5 s', () => {
    const a = answered(records.resolve('db.shop.svc.cluster.local', 'A'));
    expect(a.rcode).toBe('NOERROR');
    expect(a.answers).toEqual([{ name: 'db.shop.svc.cluster.local', type: 'A', ttl: CLUSTER_TTL, data: '10.43.0.10' }]);
  });

  it('is case-insensitive, answers with the spelling asked, and takes a trailing dot', () => {
    const a = answered(records.resolve('DB.Shop.SVC.cluster.local.', 'A'));
    expect(a.answers).toEqual([{ name: 'DB.Shop.SVC.cluster.local', type: 'A', ttl: CLUSTER_TTL, data: '10.43.0.10' }]);
  });

  it('answers a headless service with A of each ready, not terminating endpoint', () => {
    expect(data(records.resolve('peers.shop.svc.cluster.local', 'A'))).toEqual(['10.42.1.6', '10.42.2.7']);
  });

  it('publishes not-ready endpoints of a service with publishNotReadyAddresses', () => {
    const view = dnsTestView();
    view.services = view.services.map((s) => (s.name === 'peers' ? { ...s, publishNotReadyAddresses: true } : s));
    expect(data(ClusterRecords.build(view).resolve('peers.shop.svc.cluster.local', 'A'))).toEqual(['10.42.1.6', '10.42.2.7', '10.42.2.8', '10.42.2.9']);
  });

  it('answers per-pod names of a headless service: the hostname, else the IP with dashes', () => {
    expect(data(records.resolve('peer-0.peers.shop.svc.cluster.local', 'A'))).toEqual(['10.42.1.6']);
    expect(data(records.resolve('10-42-2-7.peers.shop.svc.cluster.local', 'A'))).toEqual(['10.42.2.7']);
    // Not ready, terminating: no name.
    expect(answered(records.resolve('peer-2.peers.shop.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
    expect(answered(records.resolve('peer-3.peers.shop.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('answers SRV of a named port with the service name as target and its A as additional', () => {
    const a = answered(records.resolve('_postgres._tcp.db.shop.svc.cluster.local', 'SRV'));
    expect(a.answers).toEqual([{ name: '_postgres._tcp.db.shop.svc.cluster.local', type: 'SRV', ttl: CLUSTER_TTL, data: { priority: 0, weight: 100, port: 5432, target: 'db.shop.svc.cluster.local' } }]);
    expect(a.additionals).toEqual([{ name: 'db.shop.svc.cluster.local', type: 'A', ttl: CLUSTER_TTL, data: '10.43.0.10' }]);
    expect(data(records.resolve('_metrics._udp.db.shop.svc.cluster.local', 'SRV'))).toEqual([{ priority: 0, weight: 100, port: 9100, target: 'db.shop.svc.cluster.local' }]);
    // The wrong protocol is no such name.
    expect(answered(records.resolve('_metrics._tcp.db.shop.svc.cluster.local', 'SRV')).rcode).toBe('NXDOMAIN');
  });

  it('answers SRV of a headless service per endpoint, with the endpoint port and per-pod targets', () => {
    const a = answered(records.resolve('_gossip._tcp.peers.shop.svc.cluster.local', 'SRV'));
    expect(a.answers.map((r) => ('data' in r ? r.data : undefined))).toEqual([
      { priority: 0, weight: 50, port: 7946, target: 'peer-0.peers.shop.svc.cluster.local' },
      { priority: 0, weight: 50, port: 7946, target: '10-42-2-7.peers.shop.svc.cluster.local' },
    ]);
    expect(a.additionals.map((r) => [r.name, 'data' in r ? r.data : undefined])).toEqual([
      ['peer-0.peers.shop.svc.cluster.local', '10.42.1.6'],
      ['10-42-2-7.peers.shop.svc.cluster.local', '10.42.2.7'],
    ]);
  });

  it('answers SRV of the service name itself with every named port', () => {
    expect(data(records.resolve('db.shop.svc.cluster.local', 'SRV')).map((d) => (d as { port: number }).port)).toEqual([5432, 9100]);
  });

  it('answers an ExternalName with its CNAME and asks to chase a target outside the cluster', () => {
    const a = answered(records.resolve('mail.shop.svc.cluster.local', 'A'));
    expect(a.answers).toEqual([{ name: 'mail.shop.svc.cluster.local', type: 'CNAME', ttl: CLUSTER_TTL, data: 'smtp.example.org' }]);
    expect(a.chase).toBe('smtp.example.org');
    expect(answered(records.resolve('mail.shop.svc.cluster.local', 'CNAME')).chase).toBeUndefined();
  });

  it('follows an ExternalName that names a cluster service itself', () => {
    const a = answered(records.resolve('alias.shop.svc.cluster.local', 'A'));
    expect(a.answers.map((r) => [r.type, 'data' in r ? r.data : undefined])).toEqual([
      ['CNAME', 'db.shop.svc.cluster.local'],
      ['A', '10.43.0.10'],
    ]);
    expect(a.chase).toBeUndefined();
  });

  it('answers AAAA and other types of a known name with NOERROR and no answer (never NXDOMAIN)', () => {
    for (const type of ['AAAA', 'MX', 'TXT']) {
      const a = answered(records.resolve('db.shop.svc.cluster.local', type));
      expect([a.rcode, a.answers, a.authorities.map((r) => r.type)]).toEqual(['NOERROR', [], ['SOA']]);
    }
  });

  it('answers names above records (namespace, svc, the zone) with NOERROR and no answer', () => {
    for (const name of ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', '_tcp.db.shop.svc.cluster.local']) {
      const a = answered(records.resolve(name, 'A'));
      expect([name, a.rcode, a.answers]).toEqual([name, 'NOERROR', []]);
    }
  });

  it('answers unknown names of the cluster domain with NXDOMAIN and the SOA in authority', () => {
    for (const name of ['nope.shop.svc.cluster.local', 'db.other.svc.cluster.local', 'example.com.shop.svc.cluster.local', 'x.cluster.local']) {
      const a = answered(records.resolve(name, 'A'));
      expect(a.rcode).toBe('NXDOMAIN');
      expect(a.authorities).toEqual([
        { name: 'cluster.local', type: 'SOA', ttl: CLUSTER_TTL, data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: CLUSTER_TTL } },
      ]);
    }
  });

  it('answers the zone apex SOA', () => {
    expect(answered(records.resolve('cluster.local', 'SOA')).answers.map((r) => r.type)).toEqual(['SOA']);
  });

  it('answers pod names spelled from their address (CoreDNS "pods insecure")', () => {
    expect(data(records.resolve('10-42-1-5.shop.pod.cluster.local', 'A'))).toEqual(['10.42.1.5']);
    expect(answered(records.resolve('10-42-1-500.shop.pod.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('answers PTR of ClusterIPs and endpoint IPs, NXDOMAIN for other cluster addresses, forwards the rest', () => {
    expect(data(records.resolve('10.0.43.10.in-addr.arpa', 'PTR'))).toEqual(['db.shop.svc.cluster.local']);
    expect(data(records.resolve('6.1.42.10.in-addr.arpa', 'PTR'))).toEqual(['peer-0.peers.shop.svc.cluster.local']);
    const miss = answered(records.resolve('99.1.42.10.in-addr.arpa', 'PTR'));
    expect([miss.rcode, miss.authorities.map((r) => r.name)]).toEqual(['NXDOMAIN', ['42.10.in-addr.arpa']]);
    expect(records.resolve('1.1.168.192.in-addr.arpa', 'PTR')).toEqual({ kind: 'forward' });
    expect(records.resolve('42.10.in-addr.arpa', 'PTR')).toEqual({ kind: 'forward' });
  });

  it('forwards every name outside the cluster domain, single labels included', () => {
    for (const name of ['example.com', 'db', 'db.shop', 'cluster.localhost', 'local']) expect(records.resolve(name, 'A')).toEqual({ kind: 'forward' });
  });

  it('uses the view cluster domain', () => {
    const other = ClusterRecords.build(dnsTestView({ clusterDomain: 'edge.test' }));
    expect(data(other.resolve('db.shop.svc.edge.test', 'A'))).toEqual(['10.43.0.10']);
    expect(other.resolve('db.shop.svc.cluster.local', 'A')).toEqual({ kind: 'forward' });
  });

  it('gives an unnamed port no SRV record, and a service without endpoints still its A', () => {
    expect(data(records.resolve('front.web.svc.cluster.local', 'A'))).toEqual(['10.43.0.20']);
    expect(answered(records.resolve('front.web.svc.cluster.local', 'SRV')).answers).toEqual([]);
  });
});

describe('compose service names with \'_\' (the Service takes a derived name)', () => {
  const composeService = (name: string, compose: string, clusterIP?: string): Service =>
    ({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name, namespace: 'shop', labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': compose } },
      spec: clusterIP ? { clusterIP, ports: [{ name: 'tcp-5432', port: 5432 }] } : { clusterIP: 'None' },
    }) as Service;

  it('the view carries the compose name only for the service\'s own Service, when it differs and fits one label', () => {
    expect(serviceView(composeService('my-db', 'my_db', '10.43.0.30'), [], []).composeName).toBe('my_db');
    expect(serviceView(composeService('my-db', 'My_DB', '10.43.0.30'), [], []).composeName).toBe('my_db');
    expect(serviceView(composeService('db', 'db', '10.43.0.30'), [], []).composeName).toBeUndefined();
    // An alias Service carries the service's labels but its own name.
    expect(serviceView(composeService('database', 'my_db', '10.43.0.31'), [], []).composeName).toBeUndefined();
    // A dot would make two labels; a Service that is no compose project's is left alone.
    expect(serviceView(composeService('my-db', 'my.db', '10.43.0.30'), [], []).composeName).toBeUndefined();
    // It reaches the node: the network message's validator keeps it.
    const service = serviceView(composeService('my-db', 'my_db', '10.43.0.30'), [], []);
    expect(decodeNetworkService(encodeNetworkService({ schema: WIRE_SCHEMA, revision: 1, service })).service.composeName).toBe('my_db');
    const plain = composeService('my-db', 'my_db', '10.43.0.30');
    plain.metadata.labels = { 'com.docker.compose.service': 'my_db' };
    expect(serviceView(plain, [], []).composeName).toBeUndefined();
  });

  it('answers both names with the same records; reverse lookups name the Service', () => {
    const view = dnsTestView();
    view.services.push(
      { ...serviceView(composeService('my-db', 'my_db', '10.43.0.30'), [], []) },
      { namespace: 'shop', name: 'my-cache', type: 'ClusterIP', composeName: 'my_cache', ports: [], endpoints: [{ ip: '10.42.1.40', ready: true, ports: {} }] },
    );
    const r = ClusterRecords.build(view);
    expect(data(r.resolve('my_db.shop.svc.cluster.local', 'A'))).toEqual(['10.43.0.30']);
    expect(data(r.resolve('my-db.shop.svc.cluster.local', 'A'))).toEqual(['10.43.0.30']);
    expect(data(r.resolve('MY_DB.shop.svc.cluster.local', 'A'))).toEqual(['10.43.0.30']);
    expect(data(r.resolve('_tcp-5432._tcp.my_db.shop.svc.cluster.local', 'SRV'))).toHaveLength(1);
    expect(data(r.resolve('30.0.43.10.in-addr.arpa', 'PTR'))).toEqual(['my-db.shop.svc.cluster.local']);
    // Headless: the endpoints under both names.
    expect(data(r.resolve('my_cache.shop.svc.cluster.local', 'A'))).toEqual(['10.42.1.40']);
    expect(data(r.resolve('my-cache.shop.svc.cluster.local', 'A'))).toEqual(['10.42.1.40']);
    expect(data(r.resolve('40.1.42.10.in-addr.arpa', 'PTR'))).toEqual(['10-42-1-40.my-cache.shop.svc.cluster.local']);
    // Only in its own namespace, and nothing else with '_' exists.
    expect(answered(r.resolve('my_db.web.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
    expect(answered(r.resolve('other_db.shop.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });
});
