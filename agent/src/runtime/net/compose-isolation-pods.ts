/**
 * PURE: the node's pods as compose isolation needs them (compose-isolation.ts LocalPod), from
 * what the agent already has: its target (namespace, labels, the grove.io/ annotations the
 * server passes on) and its last status report (each pod's bridge address, known once its
 * sandbox is up). Only compose pods whose networks matter are kept — those carrying the
 * project topology or a network label — so every other pod's comings and goings leave the
 * isolation rules, and the host, untouched.
 */
import { COMPOSE_NETWORKS_ANNOTATION, NETWORK_LABEL_PREFIX } from '../../../../src/core/network/compose-topology.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { COMPOSE_SERVICE_LABEL } from '../../../../src/core/objects/annotations.js';
import { DEFAULT_NAMESPACE } from '../../../../src/core/keys.js';
import type { LocalPod } from './compose-isolation.js';

/** What the status report says of a pod (agent/src/agent/report.ts). */
export interface ReportedPod {
  name: string;
  namespace?: string;
  podIP?: string;
}

const needsIsolation = (pod: WirePodTarget): boolean =>
  pod.labels?.[COMPOSE_SERVICE_LABEL] !== undefined &&
  (pod.annotations?.[COMPOSE_NETWORKS_ANNOTATION] !== undefined || Object.keys(pod.labels).some((k) => k.startsWith(NETWORK_LABEL_PREFIX)));

/** undefined when nothing was reported yet (the agent's first round after a start has not ended). */
export function composePodsOf(target: readonly WirePodTarget[], reported: readonly ReportedPod[] | undefined): LocalPod[] | undefined {
  if (!reported) return undefined;
  const ips = new Map(reported.filter((p) => p.podIP).map((p) => [`${p.namespace ?? DEFAULT_NAMESPACE}/${p.name}`, p.podIP!]));
  return target.filter(needsIsolation).map((pod) => {
    const ip = ips.get(`${pod.namespace}/${pod.name}`);
    return {
      namespace: pod.namespace,
      name: pod.name,
      ...(ip ? { ip } : {}),
      ...(pod.spec.hostNetwork ? { hostNetwork: true } : {}),
      labels: pod.labels ?? {},
      annotations: pod.annotations ?? {},
    };
  });
}
