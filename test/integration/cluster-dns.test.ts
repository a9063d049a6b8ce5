import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { startClusterDns, type ClusterDns } from '../../agent/src/agent/dns/cluster-dns.js';
import { dnsInterfaceName } from '../../agent/src/runtime/net/dns-interface.js';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import { PodSandboxes } from '../../agent/src/runtime/pod-sandbox.js';
import { podResolvConf } from '../../agent/src/runtime/resolv-conf.js';
import { dnsTestView } from '../support/dns-view.js';
import { startFakeDns, type FakeDns } from '../support/fake-dns.js';
import { createNetnsLink, type NetnsLink } from '../support/netns.js';
import { freePort } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);

/**
 * The node's cluster DNS, for real: the server on a unique link-local address (its own dummy
 * interface, port 53), asked by Debian's dig from the host and by busybox nslookup and glibc
 * (getent) from a pod-like network namespace whose resolv.conf is the one pods get; other names
 * go to a fake upstream resolver on loopback; pod sandboxes (real CNI) get the resolv.conf of
 * their dnsPolicy and reach the server through the pod network. cleanup() must leave no
 * interface and no socket.
 */
describeWith(['root', 'iproute2', 'iptables', 'dig', 'busybox'], 'cluster DNS on a node', () => {
  const tag = randomBytes(3).toString('hex');
  // Unique per run: parallel test files never share the default 169.254.20.10.
  const address = `169.254.${randomInt(21, 250)}.${randomInt(2, 250)}`;
  const iface = dnsInterfaceName(tag);
  const table = new Map<string, string[]>([
    ['example.test', ['192.0.2.1']],
    ['smtp.example.org', ['192.0.2.25']],
    ['big.example.test', Array.from({ length: 60 }, (_, i) => `198.51.100.${i + 1}`)],
  ]);
  let upstream: FakeDns;
  let dns: ClusterDns | undefined;
  let pod: NetnsLink | undefined;

  const dig = async (...args: string[]): Promise<string> => (await run('dig', [`@${address}`, '+time=2', '+tries=1', ...args])).stdout;
  const short = async (...args: string[]): Promise<string[]> => (await dig('+short', ...args)).trim().split('\n').filter(Boolean);
  const inPod = async (cmd: string[]): Promise<string> => {
    const r = await run('ip', ['netns', 'exec', pod!.ns, ...cmd]).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
    return r.stdout;
  };

  beforeAll(async () => {
    upstream = await startFakeDns(table, await freePort());
    dns = await startClusterDns({ address, tag, logger: silentLogger(), upstreams: [{ host: '127.0.0.1', port: upstream.port }], forwardTimeoutMs: 1000 });
    const view = dnsTestView();
    await dns.update(view);
    // The view source goes away: the server kept its own index, it never reads the view again.
    view.services.length = 0;
    view.clusterDomain = 'gone.invalid';
    pod = await createNetnsLink('dns');
    // A pod's default route leads to the node, where the address is local.
    await run('ip', ['netns', 'exec', pod.ns, 'ip', 'route', 'add', `${address}/32`, 'via', pod.hostIp]);
    // `ip netns exec` binds /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: the file a pod of namespace shop gets.
    await mkdir(`/etc/netns/${pod.ns}`, { recursive: true });
    const resolv = podResolvConf({ policy: 'ClusterFirst', hostNetwork: false, namespace: 'shop', cluster: { nameserver: address, domain: 'cluster.local' }, node: 'search lan.example\n' });
    await writeFile(`/etc/netns/${pod.ns}/resolv.conf`, resolv!);
  }, 60_000);

  afterAll(async () => {
    await dns?.cleanup();
    if (pod) await rm(`/etc/netns/${pod.ns}`, { recursive: true, force: true });
    await pod?.destroy();
    await upstream?.close();
  });

  it('answers a ClusterIP service, headless endpoints and per-pod names with A records', async () => {
    expect(await short('db.shop.svc.cluster.local')).toEqual(['10.43.0.10']);
    expect((await short('peers.shop.svc.cluster.local')).sort()).toEqual(['10.42.1.6', '10.42.2.7']);
    expect(await short('peer-0.peers.shop.svc.cluster.local')).toEqual(['10.42.1.6']);
    expect(await short('DB.SHOP.svc.Cluster.Local')).toEqual(['10.43.0.10']);
  });

  it('answers SRV of named ports, ExternalName as CNAME with the target from upstream, and PTR', async () => {
    expect(await short('_postgres._tcp.db.shop.svc.cluster.local', 'SRV')).toEqual(['0 100 5432 db.shop.svc.cluster.local.']);
    expect((await short('_gossip._tcp.peers.shop.svc.cluster.local', 'SRV')).sort()).toEqual(['0 50 7946 10-42-2-7.peers.shop.svc.cluster.local.', '0 50 7946 peer-0.peers.shop.svc.cluster.local.']);
    expect(await short('mail.shop.svc.cluster.local')).toEqual(['smtp.example.org.', '192.0.2.25']);
    expect(await short('-x', '10.43.0.10')).toEqual(['db.shop.svc.cluster.local.']);
  });

  it('answers unknown cluster names NXDOMAIN with the SOA, and AAAA of a known name NOERROR empty', async () => {
    const nx = await dig('nope.shop.svc.cluster.local');
    expect(nx).toMatch(/status: NXDOMAIN/);
    expect(nx).toMatch(/flags: qr aa rd ra/);
    expect(nx).toMatch(/AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. 7 /);
    const aaaa = await dig('db.shop.svc.cluster.local', 'AAAA');
    expect(aaaa).toMatch(/status: NOERROR/);
    expect(aaaa).toMatch(/ANSWER: 0,/);
  });

  it('never asks upstream for a cluster name, and forwards every other name', async () => {
    upstream.asked.length = 0;
    await short('db.shop.svc.cluster.local');
    await short('nope.cluster.local');
    expect(upstream.asked).toEqual([]);
    expect(await short('example.test')).toEqual(['192.0.2.1']);
    expect(await dig('missing.example.test')).toMatch(/status: NXDOMAIN/);
    expect(upstream.asked).toEqual(['example.test', 'missing.example.test']);
  });

  it('answers over TCP, and an answer too big for UDP comes truncated, then whole over TCP', async () => {
    expect(await short('+tcp', 'db.shop.svc.cluster.local')).toEqual(['10.43.0.10']);
    // Upstream truncates over UDP, the forwarder asks it again over TCP, the client gets TC and dig retries over TCP.
    expect(await dig('+ignore', '+noedns', 'big.example.test')).toMatch(/flags: qr tc rd ra/);
    expect(await short('big.example.test')).toHaveLength(60);
  });

  it('drops a malformed packet and keeps answering', async () => {
    const socket = createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((resolve) => socket.send(randomBytes(40), 53, address, () => resolve()));
    await new Promise<void>((resolve) => socket.send(Buffer.from([1, 2, 3]), 53, address, () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.close();
    expect(replies.filter((r) => r.length > 0 && (r[2]! & 0x80) === 0)).toEqual([]);
    expect(await short('db.shop.svc.cluster.local')).toEqual(['10.43.0.10']);
  });

  it('resolves short names from a pod through its search path (busybox nslookup, glibc)', async () => {
    expect(await inPod(['busybox', 'nslookup', 'db.shop.svc.cluster.local', address])).toMatch(/Address:\s+10\.43\.0\.10/);
    expect(await inPod(['busybox', 'nslookup', 'db'])).toMatch(/Address:\s+10\.43\.0\.10/);
    expect(await inPod(['getent', 'hosts', 'db'])).toMatch(/^10\.43\.0\.10\s+db\.shop\.svc\.cluster\.local/);
    expect(await inPod(['getent', 'hosts', 'db.shop'])).toMatch(/^10\.43\.0\.10\s/);
    expect(await inPod(['getent', 'hosts', 'example.test'])).toMatch(/^192\.0\.2\.1\s/);
  });

  it('gives pod sandboxes the resolv.conf of their dnsPolicy; a bridge pod reaches the DNS through its network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-dns-pods-'));
    const bridge = `gtd${tag}`;
    const network = new PodNetwork({ settings: { bridge, subnet: `10.${200 + randomInt(50)}.${randomInt(250)}.0/24`, ipamDataDir: join(dir, 'ipam') }, stateDir: join(dir, 'attachments'), logger: silentLogger() });
    const sandboxes = new PodSandboxes({ stateDir: join(dir, 'state'), runDir: join(dir, 'run'), network, clusterDns: dns!, logger: silentLogger() });
    const request = (pod: string, hostNetwork: boolean, policy: 'ClusterFirst' | 'ClusterFirstWithHostNet') => ({ pod, hostname: pod, app: pod, hostNetwork, ports: [], dns: { namespace: 'shop', policy } });
    const resolvOf = async (pod: string): Promise<string | undefined> => {
      const mount = (await sandboxes.joinSpec(pod))!.mounts.find((m) => m.destination === '/etc/resolv.conf');
      return mount && (await readFile(mount.source, 'utf8'));
    };
    try {
      await sandboxes.init();
      await sandboxes.create(request('web', false, 'ClusterFirst'));
      await sandboxes.create(request('agent', true, 'ClusterFirst'));
      await sandboxes.create(request('probe', true, 'ClusterFirstWithHostNet'));
      expect(await resolvOf('web')).toMatch(new RegExp(`^nameserver ${address.replaceAll('.', '\\.')}\nsearch shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local( \\S+)*\noptions ndots:5\n$`));
      // The host's own file (bound by the runtime), as kubelet's ClusterFirst on the host network.
      expect(await resolvOf('agent')).toBeUndefined();
      expect(await resolvOf('probe')).toMatch(new RegExp(`^nameserver ${address.replaceAll('.', '\\.')}\n`));
      const netns = (await sandboxes.joinSpec('web'))!.namespaces.network!;
      const looked = await run('nsenter', [`--net=${netns}`, 'busybox', 'nslookup', 'db.shop.svc.cluster.local', address]);
      expect(looked.stdout).toMatch(/Address:\s+10\.43\.0\.10/);
    } finally {
      for (const s of await sandboxes.list()) await sandboxes.remove(s.pod).catch(() => undefined);
      await run('ip', ['link', 'del', bridge]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cleanup() removes the interface and closes the sockets', async () => {
    await dns!.cleanup();
    dns = undefined;
    const link = await run('ip', ['link', 'show', 'dev', iface]).then(() => 'present', () => 'gone');
    expect(link).toBe('gone');
    // No address left on the host, nothing listening on it (a query would now leave the node).
    expect((await run('ip', ['-o', 'addr', 'show', 'to', `${address}/32`])).stdout).toBe('');
    expect((await run('ss', ['-H', '-lnut', 'src', address])).stdout).toBe('');
  });
});
