/**
 * PURE: the pods a node must run, as its schema-2 target carries them (WirePodTarget): every
 * Pod bound to it (not being deleted, or deleted with a grace period of its own), sorted by namespace and name, each with its template
 * hash (the container identity on the node: pod-template-hash or controller-revision-hash
 * label, else the spec's hash), the grove.io/ annotations the agent reads (the pod's, then its
 * top-level workload's), the top-level workload as owner, its PodSpec as stored (defaulted),
 * and the Job / CronJob settings the agent runs itself; a pod deleted with a grace period of
 * its own carries it (deletionGraceSeconds). No member is ever undefined, so an
 * unchanged pod encodes to the same canonical CBOR bytes.
 */
import type { AnyObject } from '../../core/objects/changes.js';
import { CONTROLLER_REVISION_HASH_LABEL, groveAnnotationsOf, POD_TEMPLATE_HASH_LABEL } from '../../core/objects/annotations.js';
import type { CronSettings, JobSettings, JobSpec } from '../../core/objects/batch.js';
import { podSpecHash } from '../../core/objects/template-hash.js';
import type { WirePodTarget } from '../../core/objects/wire.js';
import { isBeingDeleted, namespaceOf, type Pod } from './object-kit.js';
import type { OwnerIndex } from './owner-index.js';
import { isTerminatingGracefully } from './pod-termination.js';

/** The pod's container identity on its node. */
export function podTemplateHashOf(pod: Pod): string {
  return pod.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? podSpecHash(pod.spec);
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

const JOB_KEYS = ['completions', 'parallelism', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'] as const;
const CRON_KEYS = ['schedule', 'timeZone', 'concurrencyPolicy', 'suspend', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const;

export function jobSettings(spec: JobSpec): JobSettings {
  return pick(spec, JOB_KEYS);
}

export function podTarget(pod: Pod, owners: OwnerIndex): WirePodTarget {
  const top: AnyObject = owners.topLevel(pod);
  const annotations = { ...groveAnnotationsOf(top === pod ? undefined : top.metadata.annotations), ...groveAnnotationsOf(pod.metadata.annotations) };
  const target: WirePodTarget = {
    name: pod.metadata.name,
    namespace: namespaceOf(pod),
    uid: pod.metadata.uid ?? '',
    templateHash: podTemplateHashOf(pod),
    owner: { kind: top.kind, name: top.metadata.name, uid: top.metadata.uid ?? '' },
    spec: pod.spec,
  };
  if (pod.metadata.labels && Object.keys(pod.metadata.labels).length > 0) target.labels = pod.metadata.labels;
  if (Object.keys(annotations).length > 0) target.annotations = annotations;
  if (top.kind === 'Job') target.job = jobSettings(top.spec);
  if (top.kind === 'CronJob') {
    target.job = jobSettings(top.spec.jobTemplate.spec);
    target.cron = pick(top.spec, CRON_KEYS) as CronSettings;
  }
  if (isTerminatingGracefully(pod)) target.deletionGraceSeconds = pod.metadata.deletionGracePeriodSeconds!;
  return target;
}

function byNamespaceAndName(a: WirePodTarget, b: WirePodTarget): number {
  return a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Pods being deleted stay out of the target (their node removes their containers with the
 * pod's own grace), except those deleted with a grace period of their own, which the node must
 * know to stop them with it (pod-termination.ts removes them once the node has).
 */
function sent(p: Pod, owners: OwnerIndex): boolean {
  return p.spec.nodeName !== undefined && (!isBeingDeleted(p) || isTerminatingGracefully(p)) && !owners.isCronRunPod(p);
}

/** The pods of one node's target. */
export function nodeTargetPods(node: string, pods: readonly Pod[], owners: OwnerIndex): WirePodTarget[] {
  return pods
    .filter((p) => p.spec.nodeName === node && sent(p, owners))
    .map((p) => podTarget(p, owners))
    .sort(byNamespaceAndName);
}

/** The pods of every node's target at once (one walk over the pods, for a whole fleet). */
export function nodeTargetsByNode(pods: readonly Pod[], owners: OwnerIndex): Map<string, WirePodTarget[]> {
  const out = new Map<string, WirePodTarget[]>();
  for (const p of pods) {
    if (!sent(p, owners)) continue;
    const list = out.get(p.spec.nodeName!);
    if (list) list.push(podTarget(p, owners));
    else out.set(p.spec.nodeName!, [podTarget(p, owners)]);
  }
  for (const list of out.values()) list.sort(byNamespaceAndName);
  return out;
}
