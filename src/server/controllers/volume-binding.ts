/**
 * The persistent-volume controller (PURE): binds PersistentVolumeClaims to PersistentVolumes and
 * runs the built-in local-path provisioner, as k3s does:
 *
 * - The StorageClass `local-path` (default, rancher.io/local-path, WaitForFirstConsumer, Delete)
 *   is made when absent.
 * - A claim of a local-path class is provisioned once the scheduler has chosen the node of its
 *   first pod (annotation volume.kubernetes.io/selected-node): a PersistentVolume `pvc-<claim
 *   uid>` with `local.path: volumes/pvc-<uid>` (under that node's data dir), nodeAffinity on
 *   that node's hostname, the claim's size and modes, the class's reclaim policy; both sides are
 *   bound in the same pass. Immediate local-path classes wait for a pod too (a directory needs a node).
 * - Any other claim is bound to an Available PersistentVolume (its volumeName if set; else of
 *   the same class, with the modes asked, big enough, the smallest first).
 * - A volume whose claim is gone is Released; a provisioned one with reclaim policy Delete is
 *   deleted once no pod holds the claim. Its directory stays on the node (`grove volume rm`).
 *
 * A settled cluster writes nothing: every status is written only when it differs.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import { parseBytes } from '../../core/quantity.js';
import {
  HOSTNAME_LABEL, LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER, localPathStorageClass, PROVISIONED_BY_ANNOTATION, provisionedVolumeName, SELECTED_NODE_ANNOTATION,
} from '../../core/objects/storage-constants.js';
import type { PersistentVolumeClaimStatus, PersistentVolumeStatus } from '../../core/objects/storage.js';
import type { Controller, ControllerSnapshot, ObjectsByKind, Reconciled } from './controller.js';
import { ClaimIndex, type Claim, type Volume } from './claim-index.js';
import { isBeingDeleted, isoTime, namespaceOf, sameData } from './object-kit.js';

function bytesOf(q: string | number | undefined): number {
  if (q === undefined) return 0;
  try {
    return parseBytes(q, 'storage');
  } catch {
    return 0;
  }
}

const claimRef = (c: Claim) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: namespaceOf(c), name: c.metadata.name, uid: c.metadata.uid ?? '' });

function claimStatus(volume: Volume): PersistentVolumeClaimStatus {
  const status: PersistentVolumeClaimStatus = { phase: 'Bound' };
  if (volume.spec.accessModes) status.accessModes = volume.spec.accessModes;
  if (volume.spec.capacity) status.capacity = volume.spec.capacity;
  return status;
}

/** The volume the provisioner makes for `claim` on `node`. */
export function provisionedVolume(claim: Claim, node: string, reclaimPolicy: 'Retain' | 'Delete', className: string): Volume {
  const name = provisionedVolumeName(claim.metadata.uid ?? '');
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: reclaimPolicy,
      storageClassName: className,
      claimRef: claimRef(claim),
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node] }] }] } },
      volumeMode: 'Filesystem',
      local: { path: `volumes/${name}` },
    },
  };
}

/** Whether an unclaimed static volume can serve the claim. */
function fits(volume: Volume, claim: Claim): boolean {
  if (volume.spec.claimRef?.uid !== undefined && volume.spec.claimRef.uid !== claim.metadata.uid) return false;
  if ((volume.spec.storageClassName ?? '') !== (claim.spec.storageClassName ?? '')) return false;
  const modes = volume.spec.accessModes ?? [];
  if (!(claim.spec.accessModes ?? []).every((m) => modes.includes(m))) return false;
  return bytesOf(volume.spec.capacity?.storage) >= bytesOf(claim.spec.resources?.requests?.storage);
}

export function planVolumes(objects: ObjectsByKind, now: number): ObjectChange[] {
  const index = new ClaimIndex(objects);
  const changes: ObjectChange[] = [];
  if (!objects.StorageClass.some((s) => s.metadata.name === LOCAL_PATH_CLASS)) changes.push({ op: 'put', object: localPathStorageClass(), expect: 'absent' });
  const taken = new Set(objects.PersistentVolume.filter((v) => v.spec.claimRef?.uid).map((v) => v.metadata.name));
  const boundNow = new Map<string, Claim>();

  const bind = (claim: Claim, volume: Volume, create: boolean) => {
    const className = claim.spec.storageClassName ?? volume.spec.storageClassName;
    changes.push({ op: 'put', object: { ...volume, spec: { ...volume.spec, claimRef: claimRef(claim) } }, ...(create ? { expect: 'absent' as const } : {}) });
    changes.push({ op: 'status', ref: { kind: 'PersistentVolume', name: volume.metadata.name }, status: { phase: 'Bound', lastPhaseTransitionTime: isoTime(now) } });
    changes.push({ op: 'put', object: { ...claim, spec: { ...claim.spec, volumeName: volume.metadata.name, ...(className !== undefined ? { storageClassName: className } : {}) } } });
    changes.push({ op: 'status', ref: { kind: 'PersistentVolumeClaim', namespace: namespaceOf(claim), name: claim.metadata.name }, status: claimStatus(volume) });
    taken.add(volume.metadata.name);
    boundNow.set(volume.metadata.name, claim);
  };

  for (const claim of [...objects.PersistentVolumeClaim].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))) {
    if (isBeingDeleted(claim)) continue;
    const bound = index.boundVolume(claim);
    if (bound) {
      const want = claimStatus(bound);
      if (!sameData(claim.status, want)) changes.push({ op: 'status', ref: { kind: 'PersistentVolumeClaim', namespace: namespaceOf(claim), name: claim.metadata.name }, status: want });
      continue;
    }
    if (claim.status?.phase === 'Bound') {
      changes.push({ op: 'status', ref: { kind: 'PersistentVolumeClaim', namespace: namespaceOf(claim), name: claim.metadata.name }, status: { ...claim.status, phase: 'Lost' } });
      continue;
    }
    if (claim.status?.phase === 'Lost') continue;
    if (claim.spec.volumeName !== undefined) {
      const volume = index.volume(claim.spec.volumeName);
      // The volume asked for by name: free (or already claimed for this claim) and fitting.
      const free = volume !== undefined && (volume.spec.claimRef?.uid === undefined ? !taken.has(volume.metadata.name) : volume.spec.claimRef.uid === claim.metadata.uid);
      if (volume && free && !isBeingDeleted(volume) && fits(volume, claim)) bind(claim, volume, false);
      continue;
    }
    if (index.provisionsLocally(claim)) {
      const node = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      const cls = index.classOf(claim)!;
      const state = index.state(namespaceOf(claim), claim.metadata.name);
      if (node !== undefined && state.kind === 'waiting' && claim.metadata.uid) bind(claim, provisionedVolume(claim, node, cls.reclaimPolicy ?? 'Delete', cls.metadata.name), true);
      continue;
    }
    const candidates = objects.PersistentVolume.filter((v) => !taken.has(v.metadata.name) && !isBeingDeleted(v) && fits(v, claim));
    candidates.sort((a, b) => bytesOf(a.spec.capacity?.storage) - bytesOf(b.spec.capacity?.storage) || a.metadata.name.localeCompare(b.metadata.name));
    if (candidates[0]) bind(claim, candidates[0], false);
  }

  for (const volume of objects.PersistentVolume) {
    if (boundNow.has(volume.metadata.name) || isBeingDeleted(volume)) continue;
    const ref = volume.spec.claimRef;
    let want: PersistentVolumeStatus;
    if (!ref?.uid) want = { phase: 'Available' };
    else {
      const claim = index.claim(ref.namespace ?? 'default', ref.name ?? '');
      if (claim && claim.metadata.uid === ref.uid) want = { phase: 'Bound' };
      else {
        const provisioned = volume.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] === LOCAL_PATH_PROVISIONER;
        const held = index.holdersOf(ref.namespace ?? 'default', ref.name ?? '').length > 0 && !claim;
        if (provisioned && volume.spec.persistentVolumeReclaimPolicy === 'Delete' && !held) {
          changes.push({ op: 'delete', ref: { kind: 'PersistentVolume', name: volume.metadata.name } });
          continue;
        }
        want = { phase: 'Released' };
      }
    }
    if (volume.status?.phase !== want.phase) changes.push({ op: 'status', ref: { kind: 'PersistentVolume', name: volume.metadata.name }, status: { ...want, lastPhaseTransitionTime: isoTime(now) } });
  }
  return changes;
}

export function persistentVolumeController(): Controller {
  return {
    name: 'persistentvolume',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      return { changes: planVolumes(snapshot.objects, snapshot.now) };
    },
  };
}
