/**
 * Compose service fields about how the container runs that are neither volumes, networks nor
 * security: `dns`, `dns_search`, `dns_opt` (the pod's dnsConfig, the cluster DNS staying first so
 * service names still resolve, as docker's embedded DNS does), `ulimits`, `init`, `stop_signal`
 * and `logging` (grove.io/ annotations the node applies: objects/container-options.ts), and
 * `links` (each `SERVICE:ALIAS` one more name for that service, as a network alias is).
 */
import type { PodSpec } from '../objects/pod.js';
import {
  formatUlimits,
  INIT_ANNOTATION,
  LOG_MAX_FILE_ANNOTATION,
  LOG_MAX_SIZE_ANNOTATION,
  parseLogMaxFile,
  parseLogMaxSize,
  parseStopSignal,
  parseUlimits,
  STOP_SIGNAL_ANNOTATION,
  ULIMITS_ANNOTATION,
} from '../objects/container-options.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

export type ComposeUlimit = number | string | { soft: number | string; hard: number | string };

export interface RuntimeFields {
  dns?: string | string[];
  dns_search?: string | string[];
  dns_opt?: string[];
  ulimits?: Record<string, ComposeUlimit>;
  init?: boolean;
  stop_signal?: string;
  logging?: { driver?: string; options?: Record<string, string | number> };
  links?: string[];
  hostname?: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DOMAIN = /^[A-Za-z0-9_](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?\.?$/;
const DNS_OPTION = /^([A-Za-z0-9][-A-Za-z0-9_.]*)(?::([-A-Za-z0-9_.:]*))?$/;
/** Drivers whose files the node keeps (what `grove logs` reads), with the options that cap them. */
const FILE_DRIVERS = new Set(['json-file', 'local']);

const listOf = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const HOSTNAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** compose `hostname` → the pod's hostname (its UTS name and /etc/hosts line): a DNS label, as Kubernetes requires. */
export function composeHostname(ctx: DocContext, base: FieldPath, hostname: string): string {
  if (!HOSTNAME.test(hostname)) {
    const hint = HOSTNAME.test(hostname.toLowerCase()) ? `; write ${quote(hostname.toLowerCase())}` : hostname.includes('.') ? ' (a domain part is not supported: Kubernetes hostnames are one label)' : '';
    throw manifestError(ctx, [...base, 'hostname'], `${quote(hostname)} must be a DNS label: at most 63 lowercase letters, digits and '-'${hint}`);
  }
  return hostname;
}

/** dns, dns_search, dns_opt → dnsConfig (kubelet appends these after the cluster DNS for ClusterFirst). */
export function composeDnsConfig(ctx: DocContext, base: FieldPath, s: RuntimeFields): PodSpec['dnsConfig'] | undefined {
  const nameservers = listOf(s.dns).map((ip, i) => {
    const at = typeof s.dns === 'string' ? [...base, 'dns'] : [...base, 'dns', i];
    if (!IPV4.test(ip.trim())) throw manifestError(ctx, at, `${quote(ip)} must be an IPv4 address`);
    return ip.trim();
  });
  const searches = listOf(s.dns_search).map((d, i) => {
    const at = typeof s.dns_search === 'string' ? [...base, 'dns_search'] : [...base, 'dns_search', i];
    if (d.length > 253 || !DOMAIN.test(d.trim())) throw manifestError(ctx, at, `${quote(d)} must be a domain name`);
    return d.trim();
  });
  const options = (s.dns_opt ?? []).map((o, i) => {
    const m = DNS_OPTION.exec(o.trim());
    if (!m || o.length > 128) throw manifestError(ctx, [...base, 'dns_opt', i], `${quote(o)} must be a resolv.conf option such as ndots:2 or edns0`);
    return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, value: m[2] };
  });
  if (!nameservers.length && !searches.length && !options.length) return undefined;
  return { ...(nameservers.length ? { nameservers } : {}), ...(searches.length ? { searches } : {}), ...(options.length ? { options } : {}) };
}

/** compose `ulimits: {nofile: 1024}` or `{nofile: {soft: 1024, hard: 2048}}` → grove.io/ulimits. */
function ulimitsValue(ctx: DocContext, base: FieldPath, ulimits: Record<string, ComposeUlimit>): string {
  const entries = Object.entries(ulimits).map(([name, v]) => {
    const text = typeof v === 'object' ? `${name}=${v.soft}:${v.hard}` : `${name}=${v}`;
    try {
      parseUlimits(text);
    } catch (err) {
      throw manifestError(ctx, [...base, 'ulimits', name], (err as Error).message, { cause: err });
    }
    return text;
  });
  return formatUlimits(parseUlimits(entries.join(',')));
}

/** logging: the file drivers' caps become the node's per-container caps; other drivers keep logs in files too (a warning says so). */
function loggingAnnotations(ctx: DocContext, base: FieldPath, logging: NonNullable<RuntimeFields['logging']>, annotations: Record<string, string>, warnings: string[]): void {
  const driver = logging.driver ?? 'json-file';
  const path = [...base, 'logging'];
  if (!FILE_DRIVERS.has(driver)) {
    warnings.push(manifestError(ctx, [...path, 'driver'], `${quote(driver)} is not available: Grove keeps each container's log in capped files on its node (read with grove logs); the options are ignored`).message);
    return;
  }
  for (const [key, value] of Object.entries(logging.options ?? {})) {
    const at = [...path, 'options', key];
    const read = (parse: (v: string) => number) => {
      try {
        return String(parse(String(value)));
      } catch (err) {
        throw manifestError(ctx, at, (err as Error).message, { cause: err });
      }
    };
    if (key === 'max-size') annotations[LOG_MAX_SIZE_ANNOTATION] = read(parseLogMaxSize);
    else if (key === 'max-file') annotations[LOG_MAX_FILE_ANNOTATION] = read(parseLogMaxFile);
    else warnings.push(manifestError(ctx, at, 'is ignored: Grove caps the log files by max-size and max-file only').message);
  }
}

/** ulimits, init, stop_signal, logging → the pod template's grove.io/ annotations. */
export function runtimeAnnotations(ctx: DocContext, base: FieldPath, s: RuntimeFields, annotations: Record<string, string>, warnings: string[]): void {
  if (s.ulimits && Object.keys(s.ulimits).length) annotations[ULIMITS_ANNOTATION] = ulimitsValue(ctx, base, s.ulimits);
  if (s.init === true) annotations[INIT_ANNOTATION] = 'true';
  if (s.stop_signal !== undefined) {
    try {
      annotations[STOP_SIGNAL_ANNOTATION] = `SIG${parseStopSignal(s.stop_signal)}`;
    } catch (err) {
      throw manifestError(ctx, [...base, 'stop_signal'], (err as Error).message, { cause: err });
    }
  }
  if (s.logging) loggingAnnotations(ctx, base, s.logging, annotations, warnings);
}

export interface LinkAlias {
  /** The linked service, which answers to the alias. */
  service: string;
  name: string;
  path: FieldPath;
}

/**
 * `links: [db, "db:database"]` of one service: the aliases the linked services answer to.
 * docker scopes a link's alias to the linking container; Grove makes it a name in the project
 * (a Service), as a network alias — the same answer for the linking service.
 */
export function linkAliases(ctx: DocContext, name: string, s: RuntimeFields, services: ReadonlySet<string>): LinkAlias[] {
  const out: LinkAlias[] = [];
  (s.links ?? []).forEach((link, i) => {
    const at: FieldPath = ['services', name, 'links', i];
    const [target = '', alias, ...rest] = link.split(':');
    if (rest.length || !target) throw manifestError(ctx, at, `${quote(link)} must be SERVICE or SERVICE:ALIAS`);
    if (!services.has(target)) throw manifestError(ctx, at, `${quote(target)} is not a service of this file (links to other projects' containers, external_links, are not supported)`);
    if (alias !== undefined && alias !== target) out.push({ service: target, name: alias, path: at });
  });
  return out;
}
