/**
 * DNS messages of the node's cluster DNS server, on dns-packet: a query read and checked (one
 * question, a standard query, within the size limits — anything else is dropped or refused, never
 * thrown at the socket), and responses made to fit what the client can take (RFC 1035's 512 bytes
 * over UDP, the EDNS size it announces up to 1232 — the DNS flag day's safe size —, 64 KiB over
 * TCP): additional records go first, then the answer is cut and TC set, so the client asks again
 * over TCP.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import { MAX_QUERY_BYTES } from './dns-limits.js';

export { MAX_QUERY_BYTES, MAX_TCP_MESSAGE_BYTES } from './dns-limits.js';

/** UDP responses without EDNS (RFC 1035). */
export const CLASSIC_UDP_BYTES = 512;
/** The largest UDP response sent whatever a client announces (no IP fragmentation on any usual path). */
export const MAX_UDP_RESPONSE_BYTES = 1232;
/** RFC 1035: a name is at most 255 octets on the wire, 253 characters written. */
const MAX_NAME_CHARS = 253;

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODES;

export interface DnsQuery {
  id: number;
  /** The client asked for recursion (copied into the response, as resolvers expect). */
  recursionDesired: boolean;
  question: Question;
  /** Whether the query carried an EDNS OPT record (the response then carries one too). */
  edns: boolean;
  /** The largest UDP response this client takes. */
  udpLimit: number;
}

export type QueryCheck = { ok: true; query: DnsQuery } | { ok: false; reply?: Buffer };

/**
 * Reads a query. Garbage, responses and oversized packets are dropped (no reply: a reply to a
 * forged source would make us an amplifier); a well-formed message we do not serve (another
 * opcode, several questions) gets NOTIMP or FORMERR.
 */
export function readQuery(message: Buffer): QueryCheck {
  if (message.length < 12 || message.length > MAX_QUERY_BYTES) return { ok: false };
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(message);
  } catch {
    return { ok: false };
  }
  if (packet.flag_qr) return { ok: false };
  const id = packet.id ?? 0;
  const recursionDesired = packet.flag_rd;
  const opcode = ((packet.flags ?? 0) >> 11) & 0xf;
  const questions = packet.questions ?? [];
  const bare = (rcode: Rcode): QueryCheck => ({ ok: false, reply: encodeHeaderOnly(id, recursionDesired, rcode, questions.slice(0, 1)) });
  if (opcode !== 0) return bare('NOTIMP');
  if (questions.length !== 1) return bare('FORMERR');
  const question = questions[0]!;
  if (typeof question.name !== 'string' || question.name.length > MAX_NAME_CHARS) return bare('FORMERR');
  const opt = (packet.additionals ?? []).find((r) => r.type === 'OPT');
  const announced = opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0;
  const udpLimit = Math.min(MAX_UDP_RESPONSE_BYTES, Math.max(CLASSIC_UDP_BYTES, announced));
  return { ok: true, query: { id, recursionDesired, question, edns: opt !== undefined, udpLimit } };
}

export interface ResponseParts {
  rcode: Rcode;
  /** Authoritative: the cluster's own names (AA set); forwarded answers are not. */
  authoritative: boolean;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

/** Encodes a response to `query`, cut to `limit` bytes (additionals dropped first, then TC). */
export function encodeResponse(query: DnsQuery, parts: ResponseParts, limit: number): Buffer {
  const flags =
    (parts.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    (query.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0) |
    dnsPacket.RECURSION_AVAILABLE |
    RCODES[parts.rcode];
  const opt: Answer[] = query.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_RESPONSE_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const packet: Packet = {
    id: query.id,
    type: 'response',
    flags,
    questions: [query.question],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: [...(parts.additionals ?? []), ...opt],
  };
  let out = dnsPacket.encode(packet);
  if (out.length <= limit) return out;
  packet.additionals = opt;
  out = dnsPacket.encode(packet);
  if (out.length <= limit) return out;
  return dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
}

/** A forwarded response relayed as it came, under the client's id; cut to TC when it exceeds the client's limit. */
export function relayResponse(query: DnsQuery, upstream: Buffer, limit: number): Buffer {
  if (upstream.length > limit) {
    const rcode = upstream.length >= 4 ? upstream.readUInt16BE(2) & 0xf : 0;
    return encodeHeaderOnly(query.id, query.recursionDesired, rcodeName(rcode), [query.question], true);
  }
  const out = Buffer.from(upstream);
  out.writeUInt16BE(query.id, 0);
  return out;
}

/** Reads an upstream response's rcode and records (for an ExternalName's chased target); undefined when unreadable. */
export function readResponse(message: Buffer): { rcode: Rcode; answers: Answer[] } | undefined {
  try {
    const packet = dnsPacket.decode(message);
    if (!packet.flag_qr) return undefined;
    return { rcode: rcodeName((packet.flags ?? 0) & 0xf), answers: (packet.answers ?? []).filter((r) => r.type !== 'OPT') };
  } catch {
    return undefined;
  }
}

/** A query for one question with a fresh id (what the forwarder sends for a chased CNAME target). */
export function encodeQuestion(id: number, question: Question): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [question] });
}

export function servfail(query: DnsQuery): Buffer {
  return encodeHeaderOnly(query.id, query.recursionDesired, 'SERVFAIL', [query.question]);
}

function encodeHeaderOnly(id: number, rd: boolean, rcode: Rcode, questions: Question[], truncated = false): Buffer {
  const flags = (rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | RCODES[rcode];
  try {
    return dnsPacket.encode({ id, type: 'response', flags, questions });
  } catch {
    // A question dns-packet read but cannot write back (a label over 63 bytes): answer without it.
    return dnsPacket.encode({ id, type: 'response', flags, questions: [] });
  }
}

function rcodeName(code: number): Rcode {
  const found = (Object.keys(RCODES) as Rcode[]).find((k) => RCODES[k] === code);
  return found ?? 'SERVFAIL';
}
