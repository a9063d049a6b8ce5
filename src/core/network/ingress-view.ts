/**
 * PURE: what an ingress node needs of the cluster's Ingresses (issue 15 item 5, docs/networking.md
 * "Ingress"): each Ingress served by Grove's class, its rules in the order they are written, the
 * backends as Service references (resolved to ClusterIPs on the node, from the same network view
 * the proxier uses), and the TLS Secrets it names (by reference only: the certificates travel to
 * ingress nodes alone, never in the cluster-wide view).
 */
import { DEFAULT_CLASS_ANNOTATION, INGRESS_CONTROLLER, type PathTypeName } from '../objects/ingress-constants.js';
import type { Ingress, IngressBackend, IngressClass } from '../objects/ingress.js';

export interface IngressBackendView {
  service: string;
  /** The Service port by number, or by name (one of the two). */
  port: number | string;
}

export interface IngressPathView {
  /** Absent for ImplementationSpecific with no path (matches everything, as Prefix "/"). */
  path: string;
  /** ImplementationSpecific is served as Prefix (Caddy's path prefix match). */
  pathType: Exclude<PathTypeName, 'ImplementationSpecific'>;
  backend: IngressBackendView;
}

export interface IngressRuleView {
  /** '' for every host; "*.example.com" for one label of any name. */
  host: string;
  paths: IngressPathView[];
}

export interface IngressTlsView {
  hosts: string[];
  /** The kubernetes.io/tls Secret in the Ingress' namespace. */
  secretName: string;
}

export interface IngressView {
  namespace: string;
  name: string;
  defaultBackend?: IngressBackendView;
  rules: IngressRuleView[];
  tls: IngressTlsView[];
}

function backendView(b: IngressBackend | undefined): IngressBackendView | undefined {
  const svc = b?.service;
  const port = svc?.port?.number ?? svc?.port?.name;
  return svc && port !== undefined ? { service: svc.name, port } : undefined;
}

/** The class names Grove serves, and whether an Ingress naming no class is Grove's (a Grove class is the default). */
function groveClasses(classes: readonly IngressClass[]): { names: Set<string>; servesUnclassed: boolean } {
  const ours = classes.filter((c) => c.spec?.controller === INGRESS_CONTROLLER);
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  // With no IngressClass at all Grove serves every Ingress (a fresh cluster works without one).
  const servesUnclassed = classes.length === 0 || (defaults.length > 0 && defaults.every((c) => c.spec?.controller === INGRESS_CONTROLLER));
  return { names: new Set(ours.map((c) => c.metadata.name)), servesUnclassed };
}

/** The Ingresses Grove serves (its class, or none when Grove serves those), in the order given. */
export function servedIngresses<I extends Ingress>(ingresses: readonly I[], classes: readonly IngressClass[]): I[] {
  const { names, servesUnclassed } = groveClasses(classes);
  return ingresses.filter((ing) => {
    const cls = ing.spec?.ingressClassName;
    return cls === undefined ? servesUnclassed : names.has(cls);
  });
}

/** The Ingresses Grove serves, as ingress nodes need them, sorted by namespace/name (a stable view). */
export function ingressViews(ingresses: readonly Ingress[], classes: readonly IngressClass[]): IngressView[] {
  return servedIngresses(ingresses, classes)
    .map((ing): IngressView => {
      const spec = ing.spec ?? {};
      const defaultBackend = backendView(spec.defaultBackend);
      return {
        namespace: ing.metadata.namespace ?? 'default',
        name: ing.metadata.name,
        ...(defaultBackend ? { defaultBackend } : {}),
        rules: (spec.rules ?? []).map((r) => ({
          host: r.host ?? '',
          paths: (r.http?.paths ?? []).flatMap((p) => {
            const backend = backendView(p.backend);
            if (!backend) return [];
            return [{ path: p.path || '/', pathType: p.pathType === 'Exact' ? 'Exact' : 'Prefix', backend } satisfies IngressPathView];
          }),
        })),
        tls: (spec.tls ?? []).flatMap((t) => (t.secretName ? [{ hosts: t.hosts ?? [], secretName: t.secretName }] : [])),
      };
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
