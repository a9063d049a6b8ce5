/**
 * Compose networking → Kubernetes terms (docs/networking.md#compose-networking):
 * - a project is a namespace named after it (so two projects' `db` never collide);
 * - each service (not on the host's network) gets a Service named after it, with the container
 *   ports of `ports:` and `expose:` (a service without ports: a headless Service, so its name
 *   still resolves to its pods); each network alias is one more such Service;
 * - the networks a service joins label its pods (`network.compose.grove.io/<net>`), so a node
 *   can tell which pods share a network;
 * - what cannot be done is refused with the reason: network_mode service:/container:/none,
 *   networks the file does not define (external networks, static addresses: the schema).
 */
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from '../objects/annotations.js';
import type { AnyObject } from '../objects/changes.js';
import type { ContainerPort } from '../resolved-pod.js';
import { NETWORK_LABEL_PREFIX } from '../network/compose-topology.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { DNS_LABEL } from './schema-parts.js';
import { serviceObjectName } from './compose-service.js';

/** The network a service joins when it names none, as compose's `<project>_default`. */
export const DEFAULT_NETWORK = 'default';


export interface ComposeNetwork {
  internal?: boolean;
  name?: string;
  [field: string]: unknown;
}

export type ServiceNetworks = string[] | Record<string, { aliases?: string[] } | null>;

/** What the networking fields of one service say. */
export interface ServiceNetworking {
  /** On the host's network (network_mode: host): no Service, no project networks. */
  hostNetwork: boolean;
  /** The project networks joined, in the file's order. */
  networks: string[];
  /** Extra names, each with where it was written (for messages). */
  aliases: { name: string; path: FieldPath }[];
}

/**
 * `-n`'s namespace for every project, or the namespace chosen per project (apply keeps a project
 * an earlier Grove ran in `default` there); undefined: the project's own namespace.
 */
export type ComposeNamespace = string | ((project: string) => string | undefined);

/**
 * The project's namespace: the project name made a DNS label ('_', which compose allows, becomes
 * '-'). "my_app" and "my-app" therefore share a namespace: said in the docs.
 */
export function projectNamespace(project: string): string {
  return project.replaceAll('_', '-').replace(/-+$/, '') || 'default';
}

/** The project's Namespace object; none for `default`, which always exists. */
export function namespaceObject(project: string): AnyObject | undefined {
  const name = projectNamespace(project);
  if (name === 'default') return undefined;
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [COMPOSE_PROJECT_LABEL]: project } } } as unknown as AnyObject;
}

const MODE_REASONS: Record<string, string> = {
  none: 'is not supported: every Grove pod has a network interface',
  service:
    'is not supported: Grove runs each service in pods of its own, possibly on another node, so it cannot join another service\'s network namespace; reach that service by its name instead',
  container: 'is not supported: Grove runs no containers outside its pods; reach the other container through a Service instead',
};

/** network_mode: "host" → true; "bridge" (compose's default) → false; the rest refused with the reason. */
export function networkMode(ctx: DocContext, path: FieldPath, mode: string | undefined): boolean {
  if (mode === undefined || mode === 'bridge' || mode === 'default') return false;
  if (mode === 'host') return true;
  const kind = mode.includes(':') ? mode.slice(0, mode.indexOf(':')) : mode;
  const reason = MODE_REASONS[kind];
  throw manifestError(ctx, path, reason ? `${quote(mode)} ${reason}` : `${quote(mode)} must be host or bridge (or service:NAME / container:NAME, which Grove refuses)`);
}

/** The file's networks by name; `default` always exists (compose creates it when a service names no network). */
export function projectNetworks(top: Record<string, ComposeNetwork | null> | undefined): Map<string, { internal: boolean }> {
  const out = new Map<string, { internal: boolean }>([[DEFAULT_NETWORK, { internal: false }]]);
  for (const [name, n] of Object.entries(top ?? {})) out.set(name, { internal: n?.internal === true });
  return out;
}

/** A service's networks and aliases, checked against the file's networks. */
export function serviceNetworking(
  ctx: DocContext,
  base: FieldPath,
  s: { network_mode?: string; networks?: ServiceNetworks },
  defined: ReadonlyMap<string, unknown>,
): ServiceNetworking {
  const hostNetwork = networkMode(ctx, [...base, 'network_mode'], s.network_mode);
  if (hostNetwork && s.networks !== undefined) {
    throw manifestError(ctx, [...base, 'networks'], 'cannot be combined with network_mode: host (the service uses the host\'s network)', { at: 'key' });
  }
  if (hostNetwork) return { hostNetwork, networks: [], aliases: [] };
  const entries: [string, { aliases?: string[] } | null][] = Array.isArray(s.networks) ? s.networks.map((n) => [n, null]) : Object.entries(s.networks ?? {});
  if (entries.length === 0) return { hostNetwork, networks: [DEFAULT_NETWORK], aliases: [] };
  const aliases: ServiceNetworking['aliases'] = [];
  entries.forEach(([net, options], i) => {
    const at: FieldPath = [...base, 'networks', Array.isArray(s.networks) ? i : net];
    if (!defined.has(net)) throw manifestError(ctx, at, `network ${quote(net)} is not defined under the file's networks:`, { at: Array.isArray(s.networks) ? 'value' : 'key' });
    (options?.aliases ?? []).forEach((alias, j) => aliases.push({ name: alias, path: [...at, 'aliases', j] }));
  });
  return { hostNetwork, networks: entries.map(([net]) => net), aliases };
}

/** The pod labels saying which project networks the pod joined (`internal` or `bridge`). */
export function networkLabels(networks: readonly string[], defined: ReadonlyMap<string, { internal: boolean }>): Record<string, string> {
  return Object.fromEntries(networks.map((n) => [`${NETWORK_LABEL_PREFIX}${n}`, defined.get(n)?.internal ? 'internal' : 'bridge']));
}

const EXPOSE = /^(\d+)(?:\/(tcp|udp))?$/;

/** `expose:` entries ("80", 80, "53/udp") as container ports, not published on the node. */
export function exposePorts(ctx: DocContext, path: FieldPath, expose: readonly (string | number)[]): ContainerPort[] {
  return expose.map((e, i) => {
    const m = EXPOSE.exec(String(e).trim());
    const n = m ? Number(m[1]) : NaN;
    if (!m || n < 1 || n > 65535) {
      const range = /^\d+-\d+/.test(String(e)) ? ': port ranges are not supported, list each port' : ' must be PORT[/tcp|udp] with a port 1-65535';
      throw manifestError(ctx, [...path, i], `${quote(String(e))}${range}`);
    }
    return { containerPort: n, protocol: m[2] === 'udp' ? 'UDP' : 'TCP' };
  });
}

/** The container's ports: `ports:` as written, then `expose:` ports not already there. */
export function mergePorts(published: readonly ContainerPort[], exposed: readonly ContainerPort[]): ContainerPort[] {
  const key = (p: ContainerPort) => `${p.containerPort}/${p.protocol}`;
  const seen = new Set(published.map(key));
  const out = [...published];
  for (const p of exposed) {
    if (seen.has(key(p))) continue;
    seen.add(key(p));
    out.push(p);
  }
  return out;
}

export interface ServiceObjectsInput {
  ctx: DocContext;
  namespace: string;
  project: string;
  service: string;
  /** The container's ports (ports: and expose:). */
  ports: readonly ContainerPort[];
  aliases: ServiceNetworking['aliases'];
  /** Every service name of the file: an alias may not take one. */
  serviceNames: ReadonlySet<string>;
}

/** A Service per name the service answers to; each with the name's path for messages. */
export function serviceObjects(input: ServiceObjectsInput): { object: AnyObject; namePath: FieldPath; nameIsKey: boolean }[] {
  const { ctx, namespace, project, service, serviceNames } = input;
  const selector = { [COMPOSE_PROJECT_LABEL]: project, [COMPOSE_SERVICE_LABEL]: service };
  const byPort = new Map<string, ContainerPort>();
  for (const p of input.ports) byPort.set(`${p.containerPort}/${p.protocol}`, p);
  // Named after protocol and port, so the names are stable and DNS SRV records exist for each.
  const ports = [...byPort.values()].map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.containerPort}`, port: p.containerPort, protocol: p.protocol }));
  const spec = ports.length ? { selector, ports } : { clusterIP: 'None', selector };
  const make = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: { ...selector } }, spec: structuredClone(spec) }) as unknown as AnyObject;
  // The compose name stays in the selector label; the Service takes the DNS label derived from it ('_' → '-').
  const out = [{ object: make(serviceObjectName(service)), namePath: ['services', service] as FieldPath, nameIsKey: true }];
  const taken = new Set([service, serviceObjectName(service)]);
  for (const alias of input.aliases) {
    if (taken.has(alias.name)) continue; // an alias repeated on several networks, or the service's own name
    if (!new RegExp(DNS_LABEL).test(alias.name) || alias.name.length > 63) {
      throw manifestError(ctx, alias.path, `${quote(alias.name)} must be a DNS label (lowercase letters, digits and '-'): Grove makes a Service of each alias`);
    }
    if (serviceNames.has(alias.name)) throw manifestError(ctx, alias.path, `${quote(alias.name)} is the name of another service`);
    taken.add(alias.name);
    out.push({ object: make(alias.name), namePath: alias.path, nameIsKey: false });
  }
  return out;
}
