/**
 * PURE: the pods a node must run, as its schema-2 target carries them (WirePodTarget): every
 * Pod bound to it (not being deleted, or deleted with a grace period of its own), sorted by namespace and name, each with its template
 * hash (the container identity on the node: pod-template-hash or controller-revision-hash
 * label, else the spec's hash), the grove.io/ annotations the agent reads (the pod's, then its
 * top-level workload's) and the pod's annotations its downward API fieldRefs read, the top-level workload as owner, its PodSpec as stored (defaulted),
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
import type { ClaimIndex } from './claim-index.js';
import type { PodSpec } from '../../core/objects/pod.js';
import { LOCAL_VOLUME_PATH } from '../../core/objects/storage-constants.js';
import { readsAnnotations } from '../../core/downward-api.js';

const DATA_DIR_VOLUME = new RegExp(LOCAL_VOLUME_PATH);

/**
 * The pod's volumes as its node mounts them, or undefined while one of its claim objects is not
 * bound yet (the pod waits off the node's target until it is). A claim bound to a volume the
 * provisioner made (local.path volumes/<name>) is the node's named volume <name> under its data
 * dir; one bound to a static hostPath or local volume is that host path (the node's
 * --host-path-root applies). A claim name with no claim object stays a named volume.
 */
export function nodeVolumesOf(pod: Pod, claims: ClaimIndex | undefined): PodSpec['volumes'] | undefined {
  const volumes = pod.spec.volumes;
  if (!claims || !volumes?.some((v) => v.persistentVolumeClaim)) return volumes;
  const out: NonNullable<PodSpec['volumes']> = [];
  for (const v of volumes) {
    const ref = v.persistentVolumeClaim;
    const claim = ref ? claims.claim(namespaceOf(pod), ref.claimName) : undefined;
    if (!ref || !claim) {
      out.push(v);
      continue;
    }
    const pv = claims.boundVolume(claim);
    if (!pv) return undefined;
    const local = pv.spec.local?.path;
    if (local !== undefined && DATA_DIR_VOLUME.test(local)) out.push({ name: v.name, persistentVolumeClaim: { ...ref, claimName: local.slice('volumes/'.length) } });
    else if (pv.spec.hostPath) out.push({ name: v.name, hostPath: { ...pv.spec.hostPath } });
    else out.push({ name: v.name, hostPath: { path: local!, type: 'Directory' } });
  }
  return out;
}

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
const CRON_KEYS = ['schedule', 'timeZone', 'concurrencyPolicy', 'suspend', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'startingDeadlineSeconds'] as const;

export function jobSettings(spec: JobSpec): JobSettings {
  return pick(spec, JOB_KEYS);
}

/** Every fieldRef.fieldPath of a pod spec: its containers' env and its downwardAPI files. */
function fieldPathsOf(spec: PodSpec): string[] {
  const out: string[] = [];
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) out.push(e.valueFrom.fieldRef.fieldPath);
  for (const v of spec.volumes ?? []) {
    const items = [...(v.downwardAPI?.items ?? []), ...(v.projected?.sources ?? []).flatMap((s) => s.downwardAPI?.items ?? [])];
    for (const item of items) if (item.fieldRef) out.push(item.fieldRef.fieldPath);
  }
  return out;
}

/** The pod's own annotations its fieldRefs read (all, or the named ones): only these reach the node beside grove.io/ ones. */
function downwardAnnotations(pod: Pod): Record<string, string> {
  const wanted = readsAnnotations(fieldPathsOf(pod.spec));
  const own = pod.metadata.annotations ?? {};
  if (!wanted) return {};
  if (wanted === 'all') return { ...own };
  return Object.fromEntries(Object.entries(own).filter(([k]) => wanted.has(k)));
}

/**
 * The pod spec as its node needs it: affinity and spread constraints are the scheduler's
 * alone (they would only cost bytes on a metered link), claims become the node's volumes.
 */
function nodeSpecOf(pod: Pod, claims: ClaimIndex | undefined): Pod['spec'] {
  const { affinity: _a, topologySpreadConstraints: _s, ...spec } = pod.spec;
  return claims ? { ...spec, volumes: nodeVolumesOf(pod, claims)! } : spec;
}

export function podTarget(pod: Pod, owners: OwnerIndex, claims?: ClaimIndex): WirePodTarget {
  const top: AnyObject = owners.topLevel(pod);
  const annotations = { ...groveAnnotationsOf(top === pod ? undefined : top.metadata.annotations), ...groveAnnotationsOf(pod.metadata.annotations), ...downwardAnnotations(pod) };
  const target: WirePodTarget = {
    name: pod.metadata.name,
    namespace: namespaceOf(pod),
    uid: pod.metadata.uid ?? '',
    templateHash: podTemplateHashOf(pod),
    owner: { kind: top.kind, name: top.metadata.name, uid: top.metadata.uid ?? '' },
    spec: nodeSpecOf(pod, claims),
  };
  if (target.spec.volumes === undefined) delete target.spec.volumes;
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
function sent(p: Pod, owners: OwnerIndex, claims?: ClaimIndex): boolean {
  if (p.spec.nodeName === undefined || (isBeingDeleted(p) && !isTerminatingGracefully(p)) || owners.isCronRunPod(p)) return false;
  // A pod whose claim waits for its volume reaches the node once the volume is bound.
  return !claims || nodeVolumesOf(p, claims) !== undefined || !p.spec.volumes;
}

/** The pods of one node's target. */
export function nodeTargetPods(node: string, pods: readonly Pod[], owners: OwnerIndex, claims?: ClaimIndex): WirePodTarget[] {
  return pods
    .filter((p) => p.spec.nodeName === node && sent(p, owners, claims))
    .map((p) => podTarget(p, owners, claims))
    .sort(byNamespaceAndName);
}

/** The pods of every node's target at once (one walk over the pods, for a whole fleet). */
export function nodeTargetsByNode(pods: readonly Pod[], owners: OwnerIndex, claims?: ClaimIndex): Map<string, WirePodTarget[]> {
  const out = new Map<string, WirePodTarget[]>();
  for (const p of pods) {
    if (!sent(p, owners, claims)) continue;
    const list = out.get(p.spec.nodeName!);
    if (list) list.push(podTarget(p, owners, claims));
    else out.set(p.spec.nodeName!, [podTarget(p, owners, claims)]);
  }
  for (const list of out.values()) list.sort(byNamespaceAndName);
  return out;
}
