/**
 * PURE: the rules of an Ingress a schema cannot say, worded as Kubernetes' ValidateIngress words
 * them: a default backend or rules, a service backend with exactly one of port name or number,
 * absolute paths for Prefix and Exact, no "//", "/./", "/../" in them, TLS hosts without wildcards
 * beyond the first label.
 */
import type { PathSegment } from './explain.js';
import type { RuleProblem } from './pod-rules.js';
import type { Ingress, IngressBackend } from './ingress.js';

/** Path segments Kubernetes refuses in Prefix and Exact paths (its invalidPathSequences). */
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function backendProblems(backend: IngressBackend, path: PathSegment[], at: (p: PathSegment[], reason: string) => void): void {
  const svc = backend.service;
  if (!svc) {
    at(path, 'Required value: one of service or resource must be specified (Grove serves service backends)');
    return;
  }
  const port = svc.port;
  if (!port || (port.name === undefined && port.number === undefined)) at([...path, 'service', 'port'], 'Required value: port name or number is required');
  else if (port.name !== undefined && port.number !== undefined) at([...path, 'service', 'port'], 'Invalid value: cannot set both port name & port number');
}

export function ingressProblems(ing: Ingress): RuleProblem[] {
  const spec = ing.spec ?? {};
  const out: RuleProblem[] = [];
  const at = (path: PathSegment[], reason: string) => out.push({ path: ['spec', ...path], reason });
  const rules = spec.rules ?? [];
  if (!spec.defaultBackend && rules.length === 0) at([], 'Invalid value: either `defaultBackend` or `rules` must be specified');
  if (spec.defaultBackend) backendProblems(spec.defaultBackend, ['defaultBackend'], at);
  rules.forEach((rule, r) => {
    if (!rule.http) {
      at(['rules', r, 'http'], 'Required value: Grove serves HTTP rules only: give http.paths');
      return;
    }
    rule.http.paths.forEach((p, i) => {
      const where: PathSegment[] = ['rules', r, 'http', 'paths', i];
      const path = p.path ?? '';
      if (p.pathType !== 'ImplementationSpecific' || path !== '') {
        if (!path.startsWith('/')) at([...where, 'path'], `Invalid value: "${path}": must be an absolute path`);
        else if (p.pathType !== 'ImplementationSpecific') {
          const bad = INVALID_PATH_SEQUENCES.find((s) => path.includes(s)) ?? INVALID_PATH_SUFFIXES.find((s) => path.endsWith(s));
          if (bad) at([...where, 'path'], `Invalid value: "${path}": must not contain '${bad}'`);
        }
      }
      backendProblems(p.backend, [...where, 'backend'], at);
    });
  });
  (spec.tls ?? []).forEach((tls, t) => {
    if (!tls.secretName) at(['tls', t, 'secretName'], 'Required value: Grove terminates TLS with a kubernetes.io/tls Secret');
  });
  return out;
}
