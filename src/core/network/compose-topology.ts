/**
 * PURE: which compose services of a project share a network (docs/networking.md#compose-networking).
 * The translation writes the whole project's topology on every pod it makes (annotation
 * grove.io/compose-networks: "cache=back;db=back;web=front,back"), so a node that runs one of
 * the project's pods knows, without asking anyone, which of the project's Services' endpoints may
 * reach it. The node reads it back with parseTopology (outside input: validated, size-limited).
 */

export const COMPOSE_NETWORKS_ANNOTATION = 'grove.io/compose-networks';

/** Pod label per joined network; its value says whether the network is `internal` (no route out) or `bridge`. */
export const NETWORK_LABEL_PREFIX = 'network.compose.grove.io/';

/** Annotation values past this are refused by the node (32 services × 32 networks fits easily). */
export const MAX_TOPOLOGY_CHARS = 16 * 1024;

/** service → the project networks it joined. */
export type ComposeTopology = ReadonlyMap<string, readonly string[]>;

const SERVICE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NETWORK = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The annotation value: services sorted, networks as written. */
export function formatTopology(topology: ComposeTopology): string {
  return [...topology.keys()]
    .sort()
    .map((s) => `${s}=${topology.get(s)!.join(',')}`)
    .join(';');
}

/** The topology an annotation says; undefined when it is not one (the node then isolates nothing). */
export function parseTopology(text: string | undefined): ComposeTopology | undefined {
  if (text === undefined || text === '' || text.length > MAX_TOPOLOGY_CHARS) return undefined;
  const out = new Map<string, string[]>();
  for (const entry of text.split(';')) {
    const eq = entry.indexOf('=');
    const service = entry.slice(0, eq);
    const networks = entry.slice(eq + 1).split(',');
    if (eq < 1 || !SERVICE.test(service) || out.has(service) || !networks.every((n) => NETWORK.test(n))) return undefined;
    out.set(service, networks);
  }
  return out;
}

/** The project's services that share no network with `service` (it reaches none of them, nor they it). */
export function servicesApart(topology: ComposeTopology, service: string): string[] {
  const own = new Set(topology.get(service) ?? []);
  return [...topology.keys()].filter((other) => other !== service && !topology.get(other)!.some((n) => own.has(n))).sort();
}
