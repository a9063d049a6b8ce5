import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket, { type Packet } from 'dns-packet';
import { createSocket } from 'node:dgram';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { DnsForwarder } from '../../agent/src/agent/dns/dns-forwarder.js';
import { encodeResponse, readQuery, MAX_UDP_RESPONSE_BYTES } from '../../agent/src/agent/dns/dns-message.js';
import { DnsServer } from '../../agent/src/agent/dns/dns-server.js';
import { hostUpstreams } from '../../agent/src/agent/dns/cluster-dns.js';
import { dnsTestView } from '../support/dns-view.js';
import { startFakeDns, type FakeDns } from '../support/fake-dns.js';
import { freePort } from '../support/ports.js';
import { ManualClock } from '../support/manual-clock.js';

const query = (name: string, type = 'A', extra: Partial<Packet> = {}): Buffer =>
  dnsPacket.encode({ id: 4242, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A', class: 'IN' }], ...extra });

describe('DNS messages', () => {
  it('drops garbage, responses and oversized packets without a reply', () => {
    expect(readQuery(Buffer.from([1, 2, 3]))).toEqual({ ok: false });
    expect(readQuery(Buffer.alloc(5000))).toEqual({ ok: false });
    const response = dnsPacket.encode({ id: 1, type: 'response', questions: [{ name: 'a', type: 'A' }] });
    expect(readQuery(response)).toEqual({ ok: false });
  });

  it('answers FORMERR to two questions and NOTIMP to another opcode', () => {
    const two = dnsPacket.encode({ id: 9, type: 'query', questions: [{ name: 'a', type: 'A' }, { name: 'b', type: 'A' }] });
    const r = readQuery(two);
    expect(r.ok).toBe(false);
    expect(dnsPacket.decode((r as { reply: Buffer }).reply).flags! & 0xf).toBe(1);
    const update = dnsPacket.encode({ id: 9, type: 'query', flags: 5 << 11, questions: [{ name: 'a', type: 'A' }] });
    expect(dnsPacket.decode((readQuery(update) as { reply: Buffer }).reply).flags! & 0xf).toBe(4);
  });

  it('takes the EDNS size a client announces, within 512..1232', () => {
    const withOpt = (size: number) => query('a.example', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size } as never] });
    expect(readQuery(withOpt(4096))).toMatchObject({ ok: true, query: { udpLimit: MAX_UDP_RESPONSE_BYTES, edns: true } });
    expect(readQuery(withOpt(100))).toMatchObject({ ok: true, query: { udpLimit: 512 } });
    expect(readQuery(query('a.example'))).toMatchObject({ ok: true, query: { udpLimit: 512, edns: false } });
  });

  it('cuts a response that does not fit: additionals first, then TC without answers', () => {
    const checked = readQuery(query('big.example'));
    if (!checked.ok) throw new Error('query');
    const answers = Array.from({ length: 40 }, (_, i) => ({ name: 'big.example', type: 'A' as const, ttl: 5, data: `10.0.0.${i}` }));
    const fits = dnsPacket.decode(encodeResponse(checked.query, { rcode: 'NOERROR', authoritative: true, answers: answers.slice(0, 10), additionals: answers }, 512));
    expect([fits.answers!.length, fits.additionals!.length, fits.flag_tc]).toEqual([10, 0, false]);
    const cut = dnsPacket.decode(encodeResponse(checked.query, { rcode: 'NOERROR', authoritative: true, answers }, 512));
    expect([cut.answers!.length, cut.flag_tc, cut.id]).toEqual([0, true, 4242]);
  });
});

describe('DNS server answers (no sockets of its own)', () => {
  let upstream: FakeDns;
  let server: DnsServer;

  beforeAll(async () => {
    upstream = await startFakeDns(new Map([['example.test', ['192.0.2.1']]]), await freePort());
    const forwarder = new DnsForwarder({ upstreams: async () => [{ host: '127.0.0.1', port: upstream.port }], clock: systemClock(), timeoutMs: 1000 });
    server = new DnsServer({ address: '127.0.0.1', forwarder, logger: silentLogger() });
  });
  afterAll(() => upstream.close());

  it('forwards everything before the first view, then answers cluster names itself', async () => {
    const before = dnsPacket.decode((await server.respond(query('db.shop.svc.cluster.local'), true))!);
    expect(before.flags! & 0xf).toBe(3);
    expect(upstream.asked).toContain('db.shop.svc.cluster.local');
    await server.update(dnsTestView());
    upstream.asked.length = 0;
    const after = dnsPacket.decode((await server.respond(query('db.shop.svc.cluster.local'), true))!);
    expect([after.id, after.flag_aa, after.flag_rd, after.flag_ra, after.answers!.map((a) => ('data' in a ? a.data : undefined))]).toEqual([4242, true, true, true, ['10.43.0.10']]);
    expect(upstream.asked).toEqual([]);
    expect(server.clusterDomain).toBe('cluster.local');
  });

  it('forwards a cluster name asked in another class than IN', async () => {
    upstream.asked.length = 0;
    await server.respond(dnsPacket.encode({ id: 7, type: 'query', questions: [{ name: 'db.shop.svc.cluster.local', type: 'TXT', class: 'CH' }] }), true);
    expect(upstream.asked).toEqual(['db.shop.svc.cluster.local']);
  });

  it('relays a forwarded answer under the client id, not authoritative', async () => {
    const r = dnsPacket.decode((await server.respond(query('example.test'), true))!);
    expect([r.id, r.flag_aa, r.answers!.map((a) => ('data' in a ? a.data : undefined))]).toEqual([4242, false, ['192.0.2.1']]);
  });

  it('answers SERVFAIL when no upstream answers in time', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const forwarder = new DnsForwarder({ upstreams: async () => [{ host: '127.0.0.1', port: silent.address().port }], clock: systemClock(), timeoutMs: 200 });
    const lonely = new DnsServer({ address: '127.0.0.1', forwarder, logger: silentLogger() });
    const r = dnsPacket.decode((await lonely.respond(query('example.test'), true))!);
    silent.close();
    expect([r.id, r.flags! & 0xf]).toEqual([4242, 2]);
  });

  it('refuses forwards beyond the in-flight bound with SERVFAIL at once', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const forwarder = new DnsForwarder({ upstreams: async () => [{ host: '127.0.0.1', port: silent.address().port }], clock: systemClock(), timeoutMs: 300, maxInFlight: 1 });
    const first = forwarder.forward(query('a.example'));
    expect(await forwarder.forward(query('b.example'))).toBeUndefined();
    expect(await first).toBeUndefined();
    silent.close();
  });
});

describe('host upstreams', () => {
  it('reads the host resolv.conf (a loopback stub included), skips our own address, falls back to systemd-resolved list, re-reads after 5 s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-dns-up-'));
    const host = join(dir, 'resolv.conf');
    const fallback = join(dir, 'upstream.conf');
    await writeFile(host, 'nameserver 169.254.20.10\nnameserver 127.0.0.53\n');
    await writeFile(fallback, 'nameserver 192.168.1.1\n');
    const clock = new ManualClock();
    const read = hostUpstreams('169.254.20.10', clock, { host, fallback });
    expect(await read()).toEqual([{ host: '127.0.0.53', port: 53 }]);
    await writeFile(host, 'nameserver 169.254.20.10\n');
    expect(await read()).toEqual([{ host: '127.0.0.53', port: 53 }]);
    clock.advance(5000);
    expect(await read()).toEqual([{ host: '192.168.1.1', port: 53 }]);
  });
});
