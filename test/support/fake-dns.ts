/**
 * Test-only: a small authoritative DNS server on loopback (UDP and TCP, one port), standing in for
 * the host's resolvers behind the cluster DNS. It answers A from a fixed table (NXDOMAIN for the
 * rest), sets TC over UDP when the answer exceeds 512 bytes (so the TCP fallback is exercised),
 * and records every name it is asked.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import dnsPacket, { type Answer } from 'dns-packet';

export interface FakeDns {
  port: number;
  /** The names asked, lower case, in order (UDP and TCP). */
  asked: string[];
  close(): Promise<void>;
}

function answer(message: Buffer, table: ReadonlyMap<string, string[]>, overUdp: boolean, asked: string[]): Buffer {
  const query = dnsPacket.decode(message);
  const q = query.questions![0]!;
  asked.push(q.name.toLowerCase());
  const ips = q.type === 'A' ? table.get(q.name.toLowerCase()) : undefined;
  const known = table.has(q.name.toLowerCase());
  const answers: Answer[] = (ips ?? []).map((ip) => ({ name: q.name, type: 'A', ttl: 30, data: ip }));
  const flags = dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (known ? 0 : 3);
  const full = dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags, questions: [q], answers });
  if (!overUdp || full.length <= 512) return full;
  return dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: [q] });
}

export async function startFakeDns(table: ReadonlyMap<string, string[]>, port: number): Promise<FakeDns> {
  const asked: string[] = [];
  const udp = createSocket('udp4');
  udp.on('message', (msg, from) => udp.send(answer(msg, table, true, asked), from.port, from.address));
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const tcp = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), table, false, asked);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(reply.length);
      conn.end(Buffer.concat([len, reply]));
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    asked,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
