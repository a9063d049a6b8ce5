/**
 * compose fields that become pod runtime fields (src/core/objects/pod-runtime.ts):
 * - `pid: host` → hostPID, `ipc: host` → hostIPC (`ipc: private` / `shareable` are what every
 *   pod has anyway: its own IPC namespace);
 * - `extra_hosts` (list `HOST:IP` / `HOST=IP`, or map `HOST: IP` / `HOST: [IP, …]`) →
 *   hostAliases, names grouped by address in the order written (names lowercased: lookups are
 *   case-insensitive and Kubernetes takes DNS names in lowercase);
 * - `sysctls` (list `K=V` or map) → securityContext.sysctls, namespaced ones only.
 * Each entry is checked here so that a problem names its own list index or key.
 */
import { IPV4 } from '../objects/kit.js';
import { DNS_SUBDOMAIN } from '../objects/names.js';
import type { PodSpec } from '../objects/pod.js';
import type { HostAlias, Sysctl } from '../objects/pod-runtime.js';
import { SYSCTL_NAME, sysctlNamespace } from '../objects/pod-runtime-rules.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

export type ExtraHosts = string[] | Record<string, string | string[] | null>;
export type ComposeSysctls = string[] | Record<string, string | number | boolean | null>;

export interface ComposeRuntimeFields {
  pid?: string;
  ipc?: string;
  extra_hosts?: ExtraHosts;
  sysctls?: ComposeSysctls;
}

type Read = <T>(reader: () => T) => T | undefined;

const OWN_IPC = new Set(['private', 'shareable']);

function hostMode(ctx: DocContext, path: FieldPath, value: string, field: 'pid' | 'ipc'): boolean {
  if (value === 'host') return true;
  if (field === 'ipc' && OWN_IPC.has(value)) return false;
  const own = field === 'pid' ? 'each container has its own PID namespace' : 'each pod has its own IPC namespace (private)';
  throw manifestError(ctx, path, `${quote(value)} is not supported: only ${field}: host is (${own}; namespaces are not shared between services or containers)`);
}

/** One `extra_hosts` address: an IPv4 address; host-gateway and IPv6 refused with the reason. */
function aliasAddress(ctx: DocContext, path: FieldPath, written: string): string {
  const ip = written.trim().replace(/^\[(.*)\]$/, '$1');
  if (ip === 'host-gateway') {
    throw manifestError(ctx, path, "host-gateway is not supported: the node's address is not known when the file is read; write the node's address (or use network_mode: host and 127.0.0.1)");
  }
  if (!new RegExp(IPV4).test(ip)) throw manifestError(ctx, path, `${quote(written)} must be an IPv4 address${ip.includes(':') ? ' (IPv6 is not supported yet)' : ''}`);
  return ip;
}

function aliasName(ctx: DocContext, path: FieldPath, written: string): string {
  const name = written.trim().toLowerCase();
  if (name.length > 253 || !new RegExp(DNS_SUBDOMAIN).test(name)) throw manifestError(ctx, path, `${quote(written)} must be a host name (letters, digits, '-' and '.')`);
  return name;
}

/** One `extra_hosts` list entry: HOST=IP (compose's newer form) or HOST:IP (a host name has no ':', an IPv6 address does). */
function listEntry(ctx: DocContext, at: FieldPath, entry: string): [string, string][] {
  const sep = entry.includes('=') ? entry.indexOf('=') : entry.indexOf(':');
  if (sep <= 0) throw manifestError(ctx, at, `${quote(entry)} must be HOST:IP or HOST=IP`);
  return [[aliasName(ctx, at, entry.slice(0, sep)), aliasAddress(ctx, at, entry.slice(sep + 1))]];
}

function mapEntry(ctx: DocContext, at: FieldPath, host: string, ips: string | string[] | null): [string, string][] {
  if (ips === null) throw manifestError(ctx, at, 'needs an address');
  const name = aliasName(ctx, at, host);
  return (Array.isArray(ips) ? ips : [ips]).map((ip): [string, string] => [name, aliasAddress(ctx, at, String(ip))]);
}

/** extra_hosts → hostAliases: one entry per address, its names in the order written, each once; every bad entry recorded through `read`. */
export function composeHostAliases(ctx: DocContext, path: FieldPath, value: ExtraHosts, read: Read): HostAlias[] {
  const pairs = Array.isArray(value)
    ? value.flatMap((entry, i) => read(() => listEntry(ctx, [...path, i], entry)) ?? [])
    : Object.entries(value).flatMap(([host, ips]) => read(() => mapEntry(ctx, [...path, host], host, ips)) ?? []);
  const byIp = new Map<string, string[]>();
  for (const [name, ip] of pairs) {
    const names = byIp.get(ip) ?? [];
    if (!names.includes(name)) names.push(name);
    byIp.set(ip, names);
  }
  return [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
}

/** sysctls → securityContext.sysctls: namespaced ones, and none of a namespace shared with the host. */
export function composeSysctls(ctx: DocContext, path: FieldPath, value: ComposeSysctls, shared: { hostNetwork: boolean; hostIPC: boolean }): Sysctl[] {
  const entries: [FieldPath, string, string][] = Array.isArray(value)
    ? value.map((entry, i) => {
        const eq = entry.indexOf('=');
        if (eq <= 0) throw manifestError(ctx, [...path, i], `${quote(entry)} must be NAME=VALUE`);
        return [[...path, i], entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()];
      })
    : Object.entries(value).map(([k, v]) => {
        if (v === null) throw manifestError(ctx, [...path, k], 'needs a value');
        return [[...path, k], k, String(v)];
      });
  // As docker reads the list: a name given twice keeps its last value.
  const byName = new Map(entries.map(([at, name, v]) => [name, { at, v }]));
  return [...byName].map(([name, { at, v }]) => {
    if (name.length > 253 || !new RegExp(SYSCTL_NAME).test(name)) throw manifestError(ctx, at, `${quote(name)} must be a sysctl name written with dots, such as net.ipv4.ip_unprivileged_port_start`);
    const ns = sysctlNamespace(name);
    if (ns === undefined) throw manifestError(ctx, at, `${quote(name)} is not a namespaced sysctl: it would change the whole node (only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set per container)`);
    if (ns === 'network' && shared.hostNetwork) throw manifestError(ctx, at, `${quote(name)} cannot be set with network_mode: host (the service shares the node's network namespace)`);
    if (ns === 'ipc' && shared.hostIPC) throw manifestError(ctx, at, `${quote(name)} cannot be set with ipc: host (the service shares the node's IPC namespace)`);
    return { name, value: v };
  });
}

/** Writes the service's pid, ipc, extra_hosts and sysctls into `spec`; each field's problem recorded through `read`. */
export function applyComposeRuntime(ctx: DocContext, base: FieldPath, s: ComposeRuntimeFields, spec: PodSpec, read: Read): void {
  if (s.pid !== undefined && read(() => hostMode(ctx, [...base, 'pid'], s.pid!, 'pid'))) spec.hostPID = true;
  if (s.ipc !== undefined && read(() => hostMode(ctx, [...base, 'ipc'], s.ipc!, 'ipc'))) spec.hostIPC = true;
  const aliases = s.extra_hosts === undefined ? undefined : composeHostAliases(ctx, [...base, 'extra_hosts'], s.extra_hosts, read);
  if (aliases?.length) spec.hostAliases = aliases;
  const shared = { hostNetwork: spec.hostNetwork === true, hostIPC: spec.hostIPC === true };
  const sysctls = s.sysctls === undefined ? undefined : read(() => composeSysctls(ctx, [...base, 'sysctls'], s.sysctls!, shared));
  if (sysctls?.length) spec.securityContext = { ...spec.securityContext, sysctls };
}
