/**
 * Several broker URLs for one MQTT client (a clustered broker: NATS, EMQX, …). mqtt.js takes
 * them as `servers` and moves to the next one on every reconnect, so a client whose broker
 * member died lands on another member at its next attempt.
 */
import { ErrorCode, GroveError } from './errors.js';

export const MAX_BROKER_URLS = 16;
const URL_RE = /^(mqtts?|tcp|ssl):\/\/[^\s/]+\/?$/;

export interface BrokerServer {
  host: string;
  port: number;
  protocol: 'mqtt' | 'mqtts';
}

/** "mqtt://a:1883,mqtt://b:1883" (or an array of such strings) → validated, deduplicated URLs. */
export function parseBrokerUrls(value: string | string[], what = '--mqtt-url'): string[] {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const urls = [...new Set(parts)];
  if (urls.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `${what}: no broker URL given`);
  if (urls.length > MAX_BROKER_URLS) throw new GroveError(ErrorCode.InvalidArgument, `${what}: at most ${MAX_BROKER_URLS} broker URLs`);
  for (const url of urls) {
    if (!URL_RE.test(url)) throw new GroveError(ErrorCode.InvalidArgument, `${what}: "${url}" is not an mqtt:// or mqtts:// URL with host and port`);
  }
  return urls;
}

export function brokerServer(url: string): BrokerServer {
  const u = new URL(url);
  const secure = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (secure ? 8883 : 1883)), protocol: secure ? 'mqtts' : 'mqtt' };
}

/**
 * The list rotated to start at a member picked from `key` (the node name): a fleet handed the
 * same list spreads over the members instead of all piling onto the first.
 */
export function rotateForKey(urls: readonly string[], key: string): string[] {
  if (urls.length <= 1) return [...urls];
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  const start = h % urls.length;
  return [...urls.slice(start), ...urls.slice(0, start)];
}
