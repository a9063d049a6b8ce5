/**
 * PURE: the ingress view → Caddy's JSON config (what POST /load takes), for the Caddy an ingress
 * node runs (docs/networking.md "Ingress"). Kubernetes' matching rules, written as Caddy routes
 * tried in order:
 * - hosts: exact names before wildcards ("*.example.com") before rules for every host;
 * - paths within a host: Exact before Prefix, longer prefixes first; Prefix "/foo" matches
 *   "/foo" and "/foo/…" but not "/foobar" (Caddy: path ["/foo", "/foo/*"]);
 * - each Ingress' defaultBackend after the rules, then 404 for what nothing matches; a backend
 *   whose Service is missing answers 503.
 * Backends are the Services' ClusterIPs (the node's proxier spreads them over the endpoints);
 * headless Services dial their ready endpoints directly. TLS: one certificate per Secret,
 * chosen by SNI; Caddy never asks a CA for certificates (no automatic HTTPS, no ACME).
 */
import type { ServiceView } from '../../../../src/core/network/view.js';
import type { IngressBackendView, IngressView } from '../../../../src/core/network/ingress-view.js';
import type { TlsPair } from '../../../../src/core/network/tls-pair.js';

export interface CaddyConfigInput {
  ingresses: readonly IngressView[];
  services: readonly ServiceView[];
  /** "<namespace>/<secret name>" → the checked PEMs of a kubernetes.io/tls Secret this node was sent (ingress-certificates.ts). */
  certificates: ReadonlyMap<string, TlsPair>;
  /** Caddy's admin endpoint, e.g. "unix//run/grove/ingress/admin.sock". */
  adminListen: string;
  httpPort: number;
  httpsPort: number;
}

type Json = Record<string, unknown>;

interface Candidate {
  host: string;
  exact: boolean;
  path: string;
  /** Default backends sort after every rule. */
  fallback: boolean;
  order: number;
  handle: Json[];
}

const hostRank = (host: string) => (host === '' ? 2 : host.startsWith('*.') ? 1 : 0);

/** Kubernetes' precedence as a sort: host specificity, then Exact, then longer paths, then written order. */
function byPrecedence(a: Candidate, b: Candidate): number {
  return Number(a.fallback) - Number(b.fallback)
    || hostRank(a.host) - hostRank(b.host)
    || (a.host === b.host ? 0 : a.host < b.host ? -1 : 1)
    || Number(b.exact) - Number(a.exact)
    || b.path.length - a.path.length
    || a.order - b.order;
}

/** Where a backend is dialled, or undefined when its Service (or port) is not there. */
function upstreams(namespace: string, backend: IngressBackendView, services: readonly ServiceView[]): Json[] | undefined {
  const svc = services.find((s) => s.namespace === namespace && s.name === backend.service);
  const port = svc?.ports.find((p) => (typeof backend.port === 'number' ? p.port === backend.port : p.name === backend.port) && p.protocol === 'TCP');
  if (!svc || !port) return undefined;
  if (svc.clusterIP) return [{ dial: `${svc.clusterIP}:${port.port}` }];
  const ready = svc.endpoints.filter((e) => e.ready && !e.terminating && e.ports[port.name] !== undefined);
  return ready.length ? ready.map((e) => ({ dial: `${e.ip}:${e.ports[port.name]}` })) : undefined;
}

function handlerFor(namespace: string, backend: IngressBackendView, services: readonly ServiceView[]): Json[] {
  const ups = upstreams(namespace, backend, services);
  if (!ups) return [{ handler: 'static_response', status_code: 503, body: `no endpoints for service ${namespace}/${backend.service}\n` }];
  return [{ handler: 'reverse_proxy', upstreams: ups }];
}

/** Caddy path matchers for one Ingress path; [] = every path. */
function pathMatch(path: string, exact: boolean): string[] {
  if (exact) return [path];
  const base = path.replace(/\/+$/, '');
  return base === '' ? [] : [base, `${base}/*`];
}

function routeOf(c: Candidate): Json {
  const match: Json = {};
  if (c.host) match.host = [c.host];
  const paths = pathMatch(c.path, c.exact);
  if (paths.length) match.path = paths;
  return { ...(Object.keys(match).length ? { match: [match] } : {}), handle: c.handle, terminal: true };
}

function candidates(input: CaddyConfigInput): Candidate[] {
  const out: Candidate[] = [];
  for (const ing of input.ingresses) {
    for (const rule of ing.rules) {
      for (const p of rule.paths) {
        out.push({ host: rule.host, exact: p.pathType === 'Exact', path: p.path, fallback: false, order: out.length, handle: handlerFor(ing.namespace, p.backend, input.services) });
      }
    }
    if (ing.defaultBackend) out.push({ host: '', exact: false, path: '/', fallback: true, order: out.length, handle: handlerFor(ing.namespace, ing.defaultBackend, input.services) });
  }
  return out.sort(byPrecedence);
}

/** Caddy answers an empty 200 when no route matches; Ingress controllers answer 404. */
const NOT_FOUND: Json = { handle: [{ handler: 'static_response', status_code: 404, body: 'no Ingress rule matches this host and path\n' }], terminal: true };

/** The certificates of the Secrets the Ingresses name that this node has, in a stable order. */
function loadedCertificates(input: CaddyConfigInput): Json[] {
  const keys = [...new Set(input.ingresses.flatMap((ing) => ing.tls.map((t) => `${ing.namespace}/${t.secretName}`)))].sort();
  return keys.flatMap((key) => {
    const cert = input.certificates.get(key);
    return cert ? [{ certificate: cert.certPem, key: cert.keyPem, tags: [key] }] : [];
  });
}

/** The whole Caddy config: an HTTP server, and an HTTPS one when a TLS certificate is present. */
export function caddyConfig(input: CaddyConfigInput): Json {
  const routes = [...candidates(input).map(routeOf), NOT_FOUND];
  const certs = loadedCertificates(input);
  const servers: Json = {
    http: { listen: [`:${input.httpPort}`], routes, automatic_https: { disable: true } },
  };
  if (certs.length) {
    servers.https = { listen: [`:${input.httpsPort}`], routes, automatic_https: { disable: true }, tls_connection_policies: [{}] };
  }
  return {
    // persist: false: Caddy would write every loaded config to disk (autosave.json); flash is precious.
    // origins: Caddy checks the Host of admin requests even on a unix socket; the agent sends "localhost".
    admin: { listen: input.adminListen, origins: ['localhost'], config: { persist: false } },
    logging: { logs: { default: { level: 'WARN' } } },
    apps: {
      http: { servers },
      ...(certs.length ? { tls: { certificates: { load_pem: certs } } } : {}),
    },
  };
}
