/**
 * Container ports: the decoder of a schema-1 target's ports (Grove 0.1's wire, decoded by
 * wire.ts only to be converted to schema 2), and the rules every path shares: one
 * hostPort/protocol is claimed by at most one container of a pod (findHostPortClash: the PodSpec
 * rules, the compose client, the scheduler's keys), IPv4 host addresses.
 */
import type { ContainerPort } from './resolved-pod.js';
import type { FailField } from './wire-access.js';

/** Kubernetes' own cap is far above what a node publishes; this bounds the message size. */
export const MAX_PORTS = 64;
const PORT_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const KEYS = ['name', 'containerPort', 'hostPort', 'hostIP', 'protocol'];

function portNumber(v: unknown, path: string, fail: FailField): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : fail(path, 'expected a port number 1-65535');
}

export function isIPv4(text: string): boolean {
  const m = IPV4.exec(text);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function decodePorts(v: unknown, path: string, fail: FailField): ContainerPort[] {
  if (!Array.isArray(v)) return fail(path, 'expected an array');
  if (v.length > MAX_PORTS) return fail(path, `more than ${MAX_PORTS} ports`);
  return v.map((item, i) => {
    const at = `${path}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(at, 'expected {containerPort, hostPort?, hostIP?, protocol, name?}');
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!KEYS.includes(k)) fail(`${at}.${k}`, 'unknown field');
    const protocol = o.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') return fail(`${at}.protocol`, 'expected TCP or UDP');
    const out: ContainerPort = { containerPort: portNumber(o.containerPort, `${at}.containerPort`, fail), protocol };
    if (o.name !== undefined) {
      if (typeof o.name !== 'string' || !PORT_NAME.test(o.name)) return fail(`${at}.name`, 'expected a port name: 1-15 lower-case letters, digits and "-"');
      out.name = o.name;
    }
    if (o.hostPort !== undefined) out.hostPort = portNumber(o.hostPort, `${at}.hostPort`, fail);
    if (o.hostIP !== undefined) {
      if (typeof o.hostIP !== 'string' || !isIPv4(o.hostIP)) return fail(`${at}.hostIP`, 'expected an IPv4 address');
      if (out.hostPort === undefined) return fail(`${at}.hostIP`, 'needs a hostPort');
      out.hostIP = o.hostIP;
    }
    return out;
  });
}

/** "8080/TCP": what two claims of one node port have in common. A hostIP narrows nothing here: 0.0.0.0 overlaps every address. */
export function hostPortKey(p: Pick<ContainerPort, 'hostPort' | 'protocol'>): string {
  return `${p.hostPort}/${p.protocol}`;
}

export interface HostPortClash {
  container: number;
  port: number;
  key: string;
  /** The container that claimed it first. */
  other: string;
}

/** The first port that claims a hostPort/protocol another container (or port) of the pod already claims. */
export function findHostPortClash(containers: readonly { name: string; ports?: readonly ContainerPort[] }[]): HostPortClash | undefined {
  const seen = new Map<string, string>();
  for (const [ci, c] of containers.entries()) {
    for (const [pi, p] of (c.ports ?? []).entries()) {
      if (p.hostPort === undefined) continue;
      const key = hostPortKey(p);
      const other = seen.get(key);
      if (other !== undefined) return { container: ci, port: pi, key, other };
      seen.set(key, c.name);
    }
  }
  return undefined;
}

export function hostPortClashMessage(clash: HostPortClash): string {
  return `hostPort ${clash.key} is already claimed by container "${clash.other}" of this pod`;
}
