/**
 * The Service defaults that depend on other fields (Kubernetes' SetDefaults_Service), which a
 * schema `default` cannot say: targetPort = port, the ClientIP affinity timeout, the external
 * traffic policy of NodePort and LoadBalancer Services. The allocated values (clusterIP(s),
 * nodePorts) are the server's, at write time (src/server/network/service-allocation.ts).
 */
import { DEFAULT_AFFINITY_SECONDS } from './service-constants.js';
import type { Service } from './service.js';

/** `svc` with the code-only defaults applied (a new object; `svc` is not changed). */
export function defaultService(svc: Service): Service {
  if (!svc.spec) return svc;
  const spec = { ...svc.spec };
  const type = spec.type ?? 'ClusterIP';
  if (spec.ports) spec.ports = spec.ports.map((p) => (p.targetPort === undefined ? { ...p, targetPort: p.port } : p));
  if (spec.sessionAffinity === 'ClientIP') {
    const timeoutSeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds } };
  }
  if ((type === 'NodePort' || type === 'LoadBalancer') && spec.externalTrafficPolicy === undefined) spec.externalTrafficPolicy = 'Cluster';
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  return { ...svc, spec };
}
