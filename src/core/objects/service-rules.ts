/**
 * PURE: the rules of a Service a schema cannot say, worded as Kubernetes words them (its
 * ValidateService): ports required unless headless or ExternalName, port names required and
 * unique when there are several, nodePorts only where a type has them, what headless and
 * ExternalName Services may not carry, affinity settings only with ClientIP. Allocation
 * (a free clusterIP, nodePorts in range and not taken) is the server's, at write time.
 */
import type { PathSegment } from './explain.js';
import type { RuleProblem } from './pod-rules.js';
import type { Service } from './service.js';

const NAME_HAS_LETTER = /[a-z]/;

export function serviceProblems(svc: Service): RuleProblem[] {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const ports = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';
  const out: RuleProblem[] = [];
  const at = (path: PathSegment[], reason: string) => out.push({ path: ['spec', ...path], reason });
  if (type === 'ExternalName') {
    if (!spec.externalName) at(['externalName'], 'Required value: an ExternalName Service names the host it stands for');
    if (spec.clusterIP) at(['clusterIP'], 'must be empty for ExternalName services');
  } else if (ports.length === 0 && !headless) {
    at(['ports'], 'Required value: a Service needs at least one port (only a headless Service, clusterIP: None, may have none)');
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) at(['clusterIP'], `may not be set to 'None' for ${type} services`);
  if (spec.clusterIPs?.length && spec.clusterIP && spec.clusterIPs[0] !== spec.clusterIP) at(['clusterIPs', 0], 'must be equal to spec.clusterIP');
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  ports.forEach((p, i) => {
    const name = p.name ?? '';
    if (ports.length > 1 && name === '') at(['ports', i, 'name'], 'Required value: every port needs a name when a Service has several');
    if (name !== '') {
      if (names.has(name)) at(['ports', i, 'name'], `Duplicate value: "${name}" is also ports[${names.get(name)}]`);
      else names.set(name, i);
    }
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (keys.has(key)) at(['ports', i], `Duplicate value: port ${key} is also ports[${keys.get(key)}]`);
    else keys.set(key, i);
    if (p.nodePort !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') at(['ports', i, 'nodePort'], `Forbidden: may not be used when \`type\` is '${type}'`);
    if (typeof p.targetPort === 'string' && !NAME_HAS_LETTER.test(p.targetPort)) at(['ports', i, 'targetPort'], 'must be a port number or a port name with at least one letter');
    if (p.protocol === 'SCTP') at(['ports', i, 'protocol'], 'SCTP is not supported yet: use TCP or UDP');
  });
  if (spec.sessionAffinityConfig && spec.sessionAffinity !== 'ClientIP') at(['sessionAffinityConfig'], 'must not be set when sessionAffinity is None');
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') at(['externalTrafficPolicy'], `may only be set for NodePort and LoadBalancer services, not ${type}`);
  return out;
}
