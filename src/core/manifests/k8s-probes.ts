/**
 * Kubernetes probes → model Probes with every default filled in (Kubernetes' defaults), so the
 * agent never has to know them. The schema has checked shapes and ranges; these are the rules
 * it cannot word well.
 */
import type { ContainerProbes, Probe, ProbeHandler } from '../model.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

export interface K8sProbe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP'; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface K8sContainerProbes {
  livenessProbe?: K8sProbe;
  readinessProbe?: K8sProbe;
  startupProbe?: K8sProbe;
}

function port(ctx: DocContext, path: FieldPath, value: number | string): number {
  // Named ports would need the container's ports list resolved by name: not worth it yet.
  if (typeof value === 'string') throw manifestError(ctx, path, `${quote(value)}: named ports are not supported (write the number)`);
  return value;
}

function handler(ctx: DocContext, path: FieldPath, p: K8sProbe): ProbeHandler {
  const named = (['exec', 'httpGet', 'tcpSocket'] as const).filter((k) => p[k] !== undefined);
  if (named.length !== 1) {
    const why = named.length === 0 ? 'needs a handler' : `has ${named.join(' and ')}`;
    throw manifestError(ctx, path, `${why}: a probe has exactly one of exec, httpGet, tcpSocket`);
  }
  if (p.exec) return { exec: { command: [...p.exec.command] } };
  if (p.httpGet) {
    const h = p.httpGet;
    // Kubernetes sends "/" when no path is given.
    const out: ProbeHandler & { httpGet: object } = { httpGet: { path: h.path || '/', port: port(ctx, [...path, 'httpGet', 'port'], h.port) } };
    if (h.host !== undefined) out.httpGet.host = h.host;
    if (h.httpHeaders?.length) out.httpGet.httpHeaders = h.httpHeaders.map((x) => ({ name: x.name, value: x.value }));
    return out;
  }
  const t = p.tcpSocket!;
  const out: ProbeHandler & { tcpSocket: object } = { tcpSocket: { port: port(ctx, [...path, 'tcpSocket', 'port'], t.port) } };
  if (t.host !== undefined) out.tcpSocket.host = t.host;
  return out;
}

function probe(ctx: DocContext, path: FieldPath, p: K8sProbe, kind: 'liveness' | 'readiness' | 'startup'): Probe {
  const successThreshold = p.successThreshold ?? 1;
  // As in Kubernetes: one success is all a liveness or startup probe can mean.
  if (kind !== 'readiness' && successThreshold !== 1) throw manifestError(ctx, [...path, 'successThreshold'], `must be 1 for a ${kind} probe`);
  return {
    ...handler(ctx, path, p),
    initialDelaySeconds: p.initialDelaySeconds ?? 0,
    periodSeconds: p.periodSeconds ?? 10,
    timeoutSeconds: p.timeoutSeconds ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
    successThreshold,
  };
}

/** The container's probes, or undefined when it has none (so its template hashes as before). */
export function containerProbes(ctx: DocContext, path: FieldPath, c: K8sContainerProbes): ContainerProbes | undefined {
  const out: ContainerProbes = {};
  if (c.livenessProbe) out.liveness = probe(ctx, [...path, 'livenessProbe'], c.livenessProbe, 'liveness');
  if (c.readinessProbe) out.readiness = probe(ctx, [...path, 'readinessProbe'], c.readinessProbe, 'readiness');
  if (c.startupProbe) out.startup = probe(ctx, [...path, 'startupProbe'], c.startupProbe, 'startup');
  return Object.keys(out).length > 0 ? out : undefined;
}
