/** Names and values of the storage kinds, shared by the schemas, the rules, the planner and the agent. */

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];
/** kubectl's short spellings (RWO, ROX, RWX, RWOP) in the ACCESS MODES column. */
export const ACCESS_MODE_SHORT: Record<AccessMode, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

export const PVC_PHASES = ['Pending', 'Bound', 'Lost'] as const;
export const PV_PHASES = ['Pending', 'Available', 'Bound', 'Released', 'Failed'] as const;
export const RECLAIM_POLICIES = ['Retain', 'Delete'] as const;
export type ReclaimPolicy = (typeof RECLAIM_POLICIES)[number];
export const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;

/**
 * The built-in provisioner's name is k3s's, so manifests written for k3s (a StorageClass with
 * `provisioner: rancher.io/local-path`, claims of class `local-path`) work unchanged.
 */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';
/** The annotation marking the default StorageClass (claims without storageClassName get it). */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Set by the scheduler on a WaitForFirstConsumer claim: the node of its first pod (Kubernetes' name). */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
/** Set on the volumes a provisioner made (Kubernetes' name): only those are deleted with reclaim policy Delete. */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
/** The node label a volume's nodeAffinity names. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** `local.path` relative to the node's data dir, as the provisioner writes it: volumes/<DNS label>. */
export const LOCAL_VOLUME_PATH = '^volumes/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

/** The PersistentVolume the provisioner makes for a claim: pvc-<claim uid>, as Kubernetes names it. */
export function provisionedVolumeName(claimUid: string): string {
  return `pvc-${claimUid}`;
}

/** The built-in StorageClass, made by the volume controller when absent (k3s ships it as a manifest). */
export function localPathStorageClass() {
  return {
    apiVersion: 'storage.k8s.io/v1' as const,
    kind: 'StorageClass' as const,
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete' as const,
    volumeBindingMode: 'WaitForFirstConsumer' as const,
  };
}
