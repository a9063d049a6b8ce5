/**
 * PURE: the status of the Ingresses Grove serves (docs/networking.md "Ingress"), as k3s' Traefik
 * reports them through ServiceLB: `status.loadBalancer.ingress` lists the InternalIPs of the
 * Ready nodes labelled for ingress, so `kubectl get ingress` shows them under ADDRESS.
 *
 * A TLS Secret that cannot be served (missing, of another type, not a usable certificate and
 * key: ingress-tls-secrets.ts) is recorded on each address as Kubernetes' IngressPortStatus for
 * port 443, `error: grove.io/<reason>` (its CamelCase-with-domain form); the status write is
 * what the Ingress' Warning events hang on (events/controller-events.ts), so a problem is said
 * when it appears, not on every pass. Written only when it changes. Ingresses of other
 * controllers' classes are left alone.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import { servedIngresses } from '../../core/network/ingress-view.js';
import { checkTlsPair, type TlsPairCheck } from '../../core/network/tls-pair.js';
import { isIngressNode } from '../../core/objects/ingress-constants.js';
import type { Ingress, IngressStatus } from '../../core/objects/ingress.js';
import type { Secret } from '../../core/objects/config.js';
import { configData } from '../config-distributor.js';
import { ingressTlsProblems, type IngressTlsProblem } from '../network/ingress-tls-secrets.js';
import type { Controller } from './controller.js';
import { namespaceOf, sameData } from './object-kit.js';
import { readyNodeAddresses } from './service-lb.js';

/** Kubernetes' port of HTTPS on an Ingress: the one a TLS problem is recorded on. */
export const INGRESS_TLS_PORT = 443;
export const TLS_ERROR_DOMAIN = 'grove.io/';

type LoadBalancerEntries = NonNullable<NonNullable<IngressStatus['loadBalancer']>['ingress']>;

/** The wanted status entries: one per address, each carrying the first TLS problem (if any) on port 443. */
export function ingressLoadBalancer(addresses: readonly string[], problems: readonly IngressTlsProblem[]): LoadBalancerEntries {
  const ports = problems.length ? { ports: [{ port: INGRESS_TLS_PORT, protocol: 'TCP' as const, error: `${TLS_ERROR_DOMAIN}${problems[0]!.reason}` }] } : {};
  return addresses.map((ip) => ({ ip, ...ports }));
}

/**
 * A Secret's PEM check, remembered by resourceVersion: the controller runs on every change in
 * the cluster, certificates change rarely; only the Secrets seen in the last pass are kept.
 */
function memoizedPairCheck(): { check: (s: Secret) => TlsPairCheck; endPass: () => void } {
  let kept = new Map<string, { rv: string; result: TlsPairCheck }>();
  let seen = new Map<string, { rv: string; result: TlsPairCheck }>();
  return {
    check(secret) {
      const key = `${namespaceOf(secret)}/${secret.metadata.name}`;
      const rv = secret.metadata.resourceVersion ?? '';
      const cached = seen.get(key) ?? kept.get(key);
      const entry = cached && cached.rv === rv && rv !== '' ? cached : { rv, result: checkTlsPair(configData(secret)) };
      seen.set(key, entry);
      return entry.result;
    },
    endPass() {
      kept = seen;
      seen = new Map();
    },
  };
}

export function ingressStatusController(): Controller {
  const pairs = memoizedPairCheck();
  return {
    name: 'ingress-status',
    reconcile(snapshot) {
      const changes: ObjectChange[] = [];
      const addresses = readyNodeAddresses(snapshot.objects.Node.filter((n) => isIngressNode(n.metadata.labels)));
      for (const ing of servedIngresses(snapshot.objects.Ingress as readonly Ingress[], snapshot.objects.IngressClass)) {
        const wanted = ingressLoadBalancer(addresses, ingressTlsProblems(ing, snapshot.objects.Secret, pairs.check));
        if (sameData(ing.status?.loadBalancer?.ingress ?? [], wanted)) continue;
        const status = { ...ing.status, loadBalancer: wanted.length ? { ingress: wanted } : {} };
        changes.push({ op: 'status', ref: { kind: 'Ingress', namespace: namespaceOf(ing), name: ing.metadata.name }, status });
      }
      pairs.endPass();
      return { changes };
    },
  };
}
