/** kubectl's columns for PersistentVolumeClaim, PersistentVolume and StorageClass, as the API server prints them (1.32). */
import type { KindObject } from '../validate.js';
import { ACCESS_MODE_SHORT, DEFAULT_CLASS_ANNOTATION, type AccessMode } from '../storage-constants.js';
import { since } from './human-duration.js';
import { AGE_COLUMN, column, NAME_COLUMN, wideColumn, type KindColumns } from './kind-columns.js';

/** "RWO,RWX" in Kubernetes' order of the modes given (helper.GetAccessModesAsString). */
export function accessModesText(modes: readonly AccessMode[] | undefined): string {
  return (modes ?? []).map((m) => ACCESS_MODE_SHORT[m]).join(',');
}

const storageText = (capacity: { storage: string | number } | undefined): string => (capacity?.storage !== undefined ? String(capacity.storage) : '');

type Claim = KindObject<'PersistentVolumeClaim'>;
type Volume = KindObject<'PersistentVolume'>;

export const persistentVolumeClaimColumns: KindColumns<'PersistentVolumeClaim'> = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The phase of the claim: Pending, Bound or Lost.'),
    column('Volume', 'string', 'The PersistentVolume bound to the claim.'),
    column('Capacity', 'string', 'The capacity of the bound volume.'),
    column('Access Modes', 'string', 'The access modes of the bound volume.'),
    column('StorageClass', 'string', 'The StorageClass of the claim.'),
    column('VolumeAttributesClass', 'string', 'Not supported by Grove.'),
    AGE_COLUMN,
  ],
  wideColumns: [wideColumn('VolumeMode', 'string', 'Filesystem: Grove volumes are directories.')],
  row: (c: Claim, now) => {
    const bound = c.status?.phase === 'Bound';
    return [
      c.metadata.name,
      c.status?.phase ?? 'Pending',
      c.spec.volumeName ?? '',
      bound ? storageText(c.status?.capacity) : '',
      bound ? accessModesText(c.status?.accessModes) : '',
      c.spec.storageClassName ?? '<unset>',
      '<unset>',
      since(c.metadata.creationTimestamp, now),
    ];
  },
  wide: (c: Claim) => [c.spec.volumeMode ?? 'Filesystem'],
};

function claimText(v: Volume): string {
  const ref = v.spec.claimRef;
  return ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : '';
}

export const persistentVolumeColumns: KindColumns<'PersistentVolume'> = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'string', 'The capacity of the volume.'),
    column('Access Modes', 'string', 'The access modes of the volume.'),
    column('Reclaim Policy', 'string', 'What happens to the volume when its claim is deleted: Retain or Delete.'),
    column('Status', 'string', 'The phase of the volume: Available, Bound, Released or Failed.'),
    column('Claim', 'string', 'The claim bound to the volume (namespace/name).'),
    column('StorageClass', 'string', 'The StorageClass of the volume.'),
    column('VolumeAttributesClass', 'string', 'Not supported by Grove.'),
    column('Reason', 'string', 'Why the volume is in its phase.'),
    AGE_COLUMN,
  ],
  wideColumns: [wideColumn('VolumeMode', 'string', 'Filesystem: Grove volumes are directories.')],
  row: (v: Volume, now) => [
    v.metadata.name,
    storageText(v.spec.capacity),
    accessModesText(v.spec.accessModes),
    v.spec.persistentVolumeReclaimPolicy ?? 'Retain',
    v.status?.phase ?? 'Pending',
    claimText(v),
    v.spec.storageClassName ?? '',
    '<unset>',
    v.status?.reason ?? '',
    since(v.metadata.creationTimestamp, now),
  ],
  wide: (v: Volume) => [v.spec.volumeMode ?? 'Filesystem'],
};

export const storageClassColumns: KindColumns<'StorageClass'> = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'string', 'Who makes the volumes of the class.'),
    column('ReclaimPolicy', 'string', 'The reclaim policy of the volumes made.'),
    column('VolumeBindingMode', 'string', 'When claims are bound: Immediate, or WaitForFirstConsumer (when the first pod is scheduled).'),
    column('AllowVolumeExpansion', 'string', 'Whether claims may grow.'),
    AGE_COLUMN,
  ],
  row: (sc, now) => [
    sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' ? `${sc.metadata.name} (default)` : sc.metadata.name,
    sc.provisioner,
    sc.reclaimPolicy ?? 'Delete',
    sc.volumeBindingMode ?? 'Immediate',
    String(sc.allowVolumeExpansion ?? false),
    since(sc.metadata.creationTimestamp, now),
  ],
};
