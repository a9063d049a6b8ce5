/**
 * PURE: what a pod's `persistentVolumeClaim` volumes stand for in one snapshot, for the
 * scheduler (where the pod may go), the volume controller (which claims wait for their first
 * pod) and the node targets (what the node mounts).
 *
 * A claim name with no PersistentVolumeClaim object in the pod's namespace keeps its meaning
 * from before claims were objects: a named volume on the node (<data-dir>/volumes/<name>), as
 * compose named volumes are. A claim object is `bound` to its PersistentVolume, `waiting` for
 * its first pod (a WaitForFirstConsumer class; `node` once the scheduler chose one), or
 * `unbindable` with the reason the pod cannot be scheduled.
 */
import type { KindObject } from '../../core/objects/validate.js';
import { DEFAULT_CLASS_ANNOTATION, HOSTNAME_LABEL, LOCAL_PATH_PROVISIONER, SELECTED_NODE_ANNOTATION, type AccessMode } from '../../core/objects/storage-constants.js';
import type { VolumeNodeAffinity } from '../../core/objects/storage.js';
import { LOCAL_PATH_SHARED_MODES, LOCAL_PATH_SHARED_REASON } from '../../core/objects/storage-rules.js';
import type { ObjectsByKind } from './controller.js';
import { isBeingDeleted, isPodTerminal, namespaceOf, type Pod } from './object-kit.js';
import { nodeSelectorMatches } from '../../core/label-selector.js';

export type Claim = KindObject<'PersistentVolumeClaim'>;
export type Volume = KindObject<'PersistentVolume'>;
export type StorageClassObject = KindObject<'StorageClass'>;

export type ClaimState =
  | { kind: 'named' }
  | { kind: 'bound'; claim: Claim; volume: Volume }
  | { kind: 'waiting'; claim: Claim; node?: string }
  | { kind: 'unbindable'; claim: Claim; reason: string };

/** "namespace/name" of a claim. */
export const claimKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The claim names a pod's volumes use. */
export function podClaimNames(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

/** A pod still holding its claims: not finished, not being deleted. */
export function podHoldsClaims(pod: Pod): boolean {
  return !isPodTerminal(pod) && !isBeingDeleted(pod);
}

/** Whether the node satisfies a volume's required nodeAffinity (terms ORed, expressions ANDed). */
export function volumeAffinityMatches(affinity: VolumeNodeAffinity | undefined, node: { name: string; labels: Readonly<Record<string, string>> }): boolean {
  const terms = affinity?.required?.nodeSelectorTerms;
  return !terms || nodeSelectorMatches(terms, node);
}

/** The node a nodeAffinity of `kubernetes.io/hostname In [one]` pins a volume to (what the provisioner writes). */
export function pinnedNodeOf(volume: Volume): string | undefined {
  const terms = volume.spec.nodeAffinity?.required?.nodeSelectorTerms;
  if (terms?.length !== 1) return undefined;
  const exprs = terms[0]!.matchExpressions ?? [];
  const e = exprs.length === 1 ? exprs[0]! : undefined;
  return e && e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1 ? e.values[0] : undefined;
}

export class ClaimIndex {
  private readonly claims = new Map<string, Claim>();
  private readonly volumes = new Map<string, Volume>();
  private readonly classes = new Map<string, StorageClassObject>();
  /** "ns/claim" → keys ("ns/pod") of the pods holding it. */
  private readonly holders = new Map<string, string[]>();

  constructor(objects: Pick<ObjectsByKind, 'PersistentVolumeClaim' | 'PersistentVolume' | 'StorageClass' | 'Pod'>) {
    for (const c of objects.PersistentVolumeClaim) this.claims.set(claimKey(namespaceOf(c), c.metadata.name), c);
    for (const v of objects.PersistentVolume) this.volumes.set(v.metadata.name, v);
    for (const s of objects.StorageClass) this.classes.set(s.metadata.name, s);
    for (const p of objects.Pod) {
      if (!podHoldsClaims(p)) continue;
      for (const name of new Set(podClaimNames(p))) {
        const key = claimKey(namespaceOf(p), name);
        this.holders.set(key, [...(this.holders.get(key) ?? []), `${namespaceOf(p)}/${p.metadata.name}`]);
      }
    }
  }

  claim(namespace: string, name: string): Claim | undefined {
    return this.claims.get(claimKey(namespace, name));
  }

  volume(name: string): Volume | undefined {
    return this.volumes.get(name);
  }

  /** Pods ("ns/name") holding the claim now. */
  holdersOf(namespace: string, name: string): readonly string[] {
    return this.holders.get(claimKey(namespace, name)) ?? [];
  }

  /** The default StorageClass: the newest of those annotated default, as Kubernetes picks (ties by name). */
  defaultClass(): StorageClassObject | undefined {
    const defaults = [...this.classes.values()].filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
    defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    return defaults[0];
  }

  /** The class a claim is of: its own, or (no storageClassName) the default; "" asks for none. */
  classOf(claim: Claim): StorageClassObject | undefined {
    const name = claim.spec.storageClassName;
    if (name === '') return undefined;
    return name === undefined ? this.defaultClass() : this.classes.get(name);
  }

  /** The volume a claim is bound to, when both sides agree. */
  boundVolume(claim: Claim): Volume | undefined {
    const name = claim.spec.volumeName;
    const volume = name !== undefined ? this.volumes.get(name) : undefined;
    return volume && volume.spec.claimRef?.uid === claim.metadata.uid && claim.status?.phase === 'Bound' ? volume : undefined;
  }

  /** Whether the local-path provisioner makes the claim's volume (when its first pod is scheduled). */
  provisionsLocally(claim: Claim): boolean {
    return this.classOf(claim)?.provisioner === LOCAL_PATH_PROVISIONER;
  }

  state(namespace: string, name: string, forPod?: string): ClaimState {
    const claim = this.claim(namespace, name);
    if (!claim) return { kind: 'named' };
    if (isBeingDeleted(claim)) return { kind: 'unbindable', claim, reason: `persistentvolumeclaim "${name}" is being deleted` };
    const modes = claim.spec.accessModes ?? [];
    if (modes.includes('ReadWriteOncePod') && this.holdersOf(namespace, name).some((k) => k !== forPod)) {
      return { kind: 'unbindable', claim, reason: `persistentvolumeclaim "${name}" has ReadWriteOncePod access mode and is in use by another pod` };
    }
    const volume = this.boundVolume(claim);
    if (volume) return { kind: 'bound', claim, volume };
    if (claim.status?.phase === 'Bound') return { kind: 'unbindable', claim, reason: `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${claim.spec.volumeName ?? ''}"` };
    if (this.provisionsLocally(claim)) {
      const shared = modes.find((m: AccessMode) => LOCAL_PATH_SHARED_MODES.includes(m));
      if (shared) return { kind: 'unbindable', claim, reason: `persistentvolumeclaim "${name}" asks for ${shared}: ${LOCAL_PATH_SHARED_REASON}` };
      const node = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      return node !== undefined ? { kind: 'waiting', claim, node } : { kind: 'waiting', claim };
    }
    return { kind: 'unbindable', claim, reason: 'pod has unbound immediate PersistentVolumeClaims' };
  }
}
