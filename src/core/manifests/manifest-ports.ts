/**
 * compose `ports:` → container ports (Kubernetes' containers[].ports are kept as written and
 * checked by the PodSpec's schema and rules). Short syntax "[IP:][HOST:]CONTAINER[/proto]"
 * (or a bare number) and the long syntax {target, published, host_ip, protocol}. A port without
 * a host port is only declared, as a Kubernetes containerPort: nothing is published. Ranges,
 * IPv6 host addresses and "IP::CONTAINER" (a random host port) are refused with a reason.
 * mode: ingress (swarm's routing mesh) publishes on the pod's node only, like mode: host.
 */
import { ErrorCode, GroveError } from '../errors.js';
import type { ContainerPort } from '../resolved-pod.js';
import { findHostPortClash, isIPv4 } from '../wire-ports.js';
import { atField, manifestError, type DocContext, type FieldPath } from './location.js';
import { quoteValue } from '../quote.js';

export type ComposePort =
  | string
  | number
  | { target: number | string; published?: number | string; host_ip?: string; protocol?: 'tcp' | 'udp'; mode?: 'host' | 'ingress'; name?: string; app_protocol?: string };

const SHORT = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d+):)?(\d+)(?:\/(tcp|udp))?$/;

/** Throws a GroveError whose message is the reason (callers attach the field path). */
export function parseComposePort(value: ComposePort): ContainerPort {
  if (typeof value === 'number') return { containerPort: port(value, 'container port'), protocol: 'TCP' };
  if (typeof value === 'string') return parseShort(value.trim());
  const out: ContainerPort = { containerPort: port(value.target, 'target'), protocol: value.protocol === 'udp' ? 'UDP' : 'TCP' };
  if (value.published !== undefined && value.published !== '') out.hostPort = port(value.published, 'published');
  if (value.host_ip !== undefined) {
    if (!isIPv4(value.host_ip)) throw bad(`host_ip ${quoteValue(value.host_ip)} is not an IPv4 address`);
    if (out.hostPort === undefined) throw bad('host_ip needs a published port');
    out.hostIP = value.host_ip;
  }
  if (value.name !== undefined && /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(value.name)) out.name = value.name;
  return out;
}

function parseShort(text: string): ContainerPort {
  if (/\d-\d/.test(text)) throw bad(`${quoteValue(text)}: port ranges are not supported, list each port`);
  if (text.includes('[') || (text.match(/:/g)?.length ?? 0) > 2) throw bad(`${quoteValue(text)}: IPv6 host addresses are not supported`);
  if (/::/.test(text)) throw bad(`${quoteValue(text)}: a random host port is not supported, give one`);
  const m = SHORT.exec(text);
  if (!m) throw bad(`${quoteValue(text)} is not [IP:][HOST:]CONTAINER[/tcp|udp]`);
  const [, ip, host, container, proto] = m;
  if (ip !== undefined && !isIPv4(ip)) throw bad(`${quoteValue(ip)} is not an IPv4 address`);
  const out: ContainerPort = { containerPort: port(container, 'container port'), protocol: proto === 'udp' ? 'UDP' : 'TCP' };
  if (host !== undefined) out.hostPort = port(host, 'host port');
  if (ip !== undefined) out.hostIP = ip;
  return out;
}

function port(v: number | string | undefined, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw bad(`${what} ${quoteValue(String(v))} must be a port number 1-65535`);
  return n;
}

function bad(reason: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, reason);
}

export function composePorts(ctx: DocContext, path: FieldPath, ports: readonly ComposePort[]): ContainerPort[] {
  const out = ports.map((p, i) => atField(ctx, [...path, i], () => parseComposePort(p)));
  const clash = findHostPortClash([{ name: 'service', ports: out }]);
  if (clash) throw manifestError(ctx, [...path, clash.port], `host port ${clash.key} is published twice`);
  return out;
}
