/**
 * The few Kubernetes defaults a JSON Schema `default` cannot express, in one place. Everything
 * else (restartPolicy, grace period, probe timings, strategies, Job counts…) is defaulted by the
 * generated validators themselves.
 *
 * - imagePullPolicy: Always for an image without a tag or tagged `latest`, IfNotPresent
 *   otherwise (pinned by digest too), on every container of templates and pods.
 * - On Pods only (as Kubernetes' SetDefaults_Pod): a resource limited but not requested is
 *   requested at its limit, so the scheduler reserves what the container may use.
 */
import { parseImageRef } from '../image-ref.js';
import type { Container, ResourceList } from './pod-container.js';
import type { PodSpec } from './pod.js';

export type ImagePullPolicy = NonNullable<Container['imagePullPolicy']>;

export function defaultImagePullPolicy(image: string): ImagePullPolicy {
  try {
    return parseImageRef(image).tag === 'latest' ? 'Always' : 'IfNotPresent';
  } catch {
    // An invalid reference is refused by validation; defaulting must not be the one to throw.
    return 'IfNotPresent';
  }
}

function defaultRequests(limits: ResourceList | undefined, requests: ResourceList | undefined): ResourceList | undefined {
  if (!limits) return requests;
  const out: Record<string, string | number> = { ...requests };
  for (const [name, value] of Object.entries(limits)) if (out[name] === undefined && value !== undefined) out[name] = value;
  return Object.keys(out).length > 0 ? (out as ResourceList) : undefined;
}

function defaultContainer<C extends Container>(c: C, where: 'template' | 'pod'): C {
  const out: C = { ...c };
  if (out.imagePullPolicy === undefined) out.imagePullPolicy = defaultImagePullPolicy(c.image);
  if (where === 'pod' && c.resources?.limits) {
    const requests = defaultRequests(c.resources.limits, c.resources.requests);
    out.resources = { ...c.resources, ...(requests ? { requests } : {}) };
  }
  return out;
}

/**
 * `spec` with the code-only defaults applied (a new object; `spec` is not changed). `where`:
 * 'template' for the pod templates of workloads, 'pod' for Pod objects.
 */
export function defaultPodSpec(spec: PodSpec, where: 'template' | 'pod'): PodSpec {
  const out: PodSpec = { ...spec, containers: spec.containers.map((c) => defaultContainer(c, where)) };
  if (spec.initContainers) out.initContainers = spec.initContainers.map((c) => defaultContainer(c, where));
  return out;
}
