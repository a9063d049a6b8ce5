/**
 * Schema-2 pod targets for agent tests from a compact description: the shape a server sends
 * (WirePodTarget, a Kubernetes PodSpec under `spec`), with the test's fields and nothing else.
 */
import type { Container } from '../../src/core/objects/pod-container.js';
import type { PodSpec, RestartPolicy } from '../../src/core/objects/pod.js';
import type { WirePodTarget } from '../../src/core/objects/wire.js';

export type { Container, WirePodTarget };

/** A container `name` running reg.lan/<name>:1, with `over` on top. */
export function container(name: string, over: Partial<Container> = {}): Container {
  return { name, image: `reg.lan/${name}:1`, ...over };
}

export interface PodDesc {
  namespace?: string;
  /** The owning workload's name (default: the pod name up to its first "-"). */
  app?: string;
  ownerKind?: string;
  hash?: string;
  policy?: RestartPolicy;
  hostNetwork?: boolean;
  /** Container names (reg.lan/<name>:1) or whole containers; default one container "main". */
  containers?: (string | Container)[];
  inits?: (string | Container)[];
  grace?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** Any other PodSpec field (volumes, securityContext …). */
  spec?: Partial<PodSpec>;
  job?: WirePodTarget['job'];
  cron?: WirePodTarget['cron'];
}

const asContainer = (c: string | Container): Container => (typeof c === 'string' ? container(c) : c);

export function podTarget(name: string, d: PodDesc = {}): WirePodTarget {
  const app = d.app ?? (name.split('-')[0] as string);
  const spec: PodSpec = { containers: (d.containers ?? ['main']).map(asContainer), restartPolicy: d.policy ?? 'Always', ...d.spec };
  if (d.inits?.length) spec.initContainers = d.inits.map(asContainer) as PodSpec['initContainers'];
  if (d.hostNetwork) spec.hostNetwork = true;
  if (d.grace !== undefined) spec.terminationGracePeriodSeconds = d.grace;
  const out: WirePodTarget = {
    name,
    namespace: d.namespace ?? 'default',
    uid: `uid-${name}`,
    templateHash: d.hash ?? 'h1',
    owner: { kind: d.ownerKind ?? (d.cron ? 'CronJob' : d.job ? 'Job' : 'Deployment'), name: app, uid: `uid-${app}` },
    spec,
  };
  if (d.labels) out.labels = d.labels;
  if (d.annotations) out.annotations = d.annotations;
  if (d.job) out.job = d.job;
  if (d.cron) out.cron = d.cron;
  return out;
}
