/**
 * Retained messages for the embedded broker, looked up by exact topic.
 *
 * aedes's in-memory persistence answers every SUBSCRIBE by testing each retained message against
 * the subscription pattern: O(retained) per subscription, O(N²) for a fleet of N nodes that each
 * subscribe to their own (exact) target topic while 2N retained messages (targets, presences)
 * exist; a 10,000-node join storm spends minutes in it. Here exact topics are a Map lookup and
 * only wildcard patterns (the server's few subscriptions) scan.
 */
import { Readable } from 'node:stream';

export interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
  [key: string]: unknown;
}

/** The part of aedes's persistence interface that deals with retained messages. */
export interface RetainedPersistence {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/** MQTT topic filter match: `+` one level, `#` (last) any number of levels, including none. */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return i === p.length - 1;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

const hasWildcard = (pattern: string): boolean => pattern.includes('+') || pattern.includes('#');

function* matching(retained: Map<string, RetainedPacket>, patterns: string[]): Generator<RetainedPacket> {
  for (const pattern of patterns) {
    if (!hasWildcard(pattern)) {
      const packet = retained.get(pattern);
      if (packet) yield packet;
      continue;
    }
    for (const [topic, packet] of retained) if (topicMatches(pattern, topic)) yield packet;
  }
}

/** Replaces the retained-message part of `persistence` (aedes's default, in memory) in place. */
export function indexRetained(persistence: RetainedPersistence): Map<string, RetainedPacket> {
  const retained = new Map<string, RetainedPacket>();
  persistence.storeRetained = async (pkt) => {
    // A copy, as aedes's own store keeps one: the packet object is reused by aedes afterwards.
    if (pkt.payload.length === 0) retained.delete(pkt.topic);
    else retained.set(pkt.topic, { ...pkt });
  };
  persistence.createRetainedStream = (pattern) => Readable.from(matching(retained, [pattern]));
  persistence.createRetainedStreamCombi = (patterns) => Readable.from(matching(retained, patterns));
  return retained;
}
