/**
 * core/v1 PersistentVolumeClaim and PersistentVolume, storage.k8s.io/v1 StorageClass (issue 16,
 * docs/manifests.md "Persistent volumes").
 *
 * Grove provisions volumes itself, as k3s does, with the built-in local-path provisioner
 * (storage-constants.ts): a directory on the node, bound when the first pod using the claim is
 * scheduled (WaitForFirstConsumer), the pod and every later one then pinned to that node by the
 * PersistentVolume's nodeAffinity. Static PersistentVolumes (hostPath, local) are bound too.
 * Rules across fields (access modes a class can give, a request that parses) are storage-rules.ts;
 * the binding is the pure planner of src/server/controllers/volume-binding.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsSubdomain, quantity, refTo, stringEnum, stringMap, timestamp, unsupportedFields } from './kit.js';
import { Conditions, LabelKey, ObjectMeta, ObjectReference, typeMeta } from './meta.js';
import { absolutePath, exactlyOne, HOST_PATH_TYPES } from './pod-volumes.js';
import { ACCESS_MODES, BINDING_MODES, LOCAL_VOLUME_PATH, PV_PHASES, PVC_PHASES, RECLAIM_POLICIES } from './storage-constants.js';

export * from './storage-constants.js';

const accessModes = () =>
  Type.Array(stringEnum(ACCESS_MODES, { errorMessage: `must be one of ${ACCESS_MODES.join(', ')}` }), { maxItems: 4, uniqueItems: true });

/** Only storage is asked of or recorded for a volume. */
const storageMap = () => closed({ storage: quantity('a size such as 1Gi or 500Mi') });

/** Filesystem volumes only: Grove mounts directories, it has no raw block devices to hand out. */
const volumeMode = () =>
  Type.Optional(stringEnum(['Filesystem'], { errorMessage: 'must be Filesystem: Grove volumes are directories (Block is not supported)' }));

/* ----------------------------------------------------------------- PersistentVolumeClaim */

export const PersistentVolumeClaimSpec = closed({
  accessModes: Type.Optional(accessModes()),
  resources: Type.Optional(closed({ requests: Type.Optional(storageMap()), limits: Type.Optional(storageMap()) })),
  /** Absent: the default StorageClass; "": only a PersistentVolume without a class. */
  storageClassName: Type.Optional(Type.String({ maxLength: 253 })),
  /** The PersistentVolume bound to the claim (written when bound, or asked for by name). */
  volumeName: Type.Optional(dnsSubdomain()),
  volumeMode: volumeMode(),
  ...unsupportedFields(['selector', 'dataSource', 'dataSourceRef', 'volumeAttributesClassName']),
});
export type PersistentVolumeClaimSpec = Static<typeof PersistentVolumeClaimSpec>;

export const PersistentVolumeClaimStatus = closed({
  phase: Type.Optional(stringEnum(PVC_PHASES)),
  accessModes: Type.Optional(accessModes()),
  capacity: Type.Optional(storageMap()),
  conditions: Type.Optional(Conditions),
});
export type PersistentVolumeClaimStatus = Static<typeof PersistentVolumeClaimStatus>;

export const PersistentVolumeClaim = closed(
  {
    ...typeMeta('v1', 'PersistentVolumeClaim'),
    metadata: refTo(ObjectMeta),
    spec: PersistentVolumeClaimSpec,
    status: Type.Optional(PersistentVolumeClaimStatus),
  },
  { $id: 'PersistentVolumeClaim' },
);
export type PersistentVolumeClaim = Static<typeof PersistentVolumeClaim>;

/* ----------------------------------------------------------------- PersistentVolume */

/** One node-selector requirement: a PersistentVolume's nodeAffinity pins its volume to nodes by label. */
export const VolumeNodeSelectorRequirement = closed({
  key: LabelKey,
  operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'], { errorMessage: 'must be In, NotIn, Exists or DoesNotExist' }),
  values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64 })),
});
export type VolumeNodeSelectorRequirement = Static<typeof VolumeNodeSelectorRequirement>;

export const VolumeNodeAffinity = closed({
  required: Type.Optional(
    closed({
      nodeSelectorTerms: Type.Array(
        closed({ matchExpressions: Type.Optional(Type.Array(VolumeNodeSelectorRequirement, { maxItems: 16 })), ...unsupportedFields(['matchFields']) }),
        { minItems: 1, maxItems: 8 },
      ),
    }),
  ),
});
export type VolumeNodeAffinity = Static<typeof VolumeNodeAffinity>;

/**
 * `local.path`: an absolute path on the node, or `volumes/<name>` under the node's data dir
 * (what the local-path provisioner makes: <data-dir>/volumes/pvc-<claim uid>).
 */
const localPath = () =>
  Type.Union([absolutePath(), Type.String({ pattern: LOCAL_VOLUME_PATH, maxLength: 71 })], {
    errorMessage: 'must be an absolute path without ".." parts, or volumes/<name> under the node\'s data dir',
  });

export const PersistentVolumeSpec = closed({
  capacity: Type.Optional(storageMap()),
  accessModes: Type.Optional(accessModes()),
  persistentVolumeReclaimPolicy: Type.Optional(stringEnum(RECLAIM_POLICIES, { errorMessage: 'must be Retain or Delete (Recycle is deprecated and not supported)' })),
  storageClassName: Type.Optional(Type.String({ maxLength: 253 })),
  claimRef: Type.Optional(ObjectReference),
  nodeAffinity: Type.Optional(VolumeNodeAffinity),
  volumeMode: volumeMode(),
  hostPath: Type.Optional(closed({ path: absolutePath(), type: Type.Optional(stringEnum(HOST_PATH_TYPES.filter((t) => t !== 'ComposeBind'))) })),
  local: Type.Optional(closed({ path: localPath(), fsType: Type.Optional(Type.String({ maxLength: 63 })) })),
  ...unsupportedFields(
    ['nfs', 'csi', 'iscsi', 'rbd', 'cephfs', 'glusterfs', 'fc', 'flexVolume', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'vsphereVolume', 'mountOptions'],
    'Grove mounts node directories only: use hostPath or local (or a claim of the local-path class)',
  ),
}, exactlyOne(['hostPath', 'local']));
export type PersistentVolumeSpec = Static<typeof PersistentVolumeSpec>;

export const PersistentVolumeStatus = closed({
  phase: Type.Optional(stringEnum(PV_PHASES)),
  reason: Type.Optional(Type.String({ maxLength: 128 })),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
  lastPhaseTransitionTime: Type.Optional(timestamp()),
});
export type PersistentVolumeStatus = Static<typeof PersistentVolumeStatus>;

export const PersistentVolume = closed(
  {
    ...typeMeta('v1', 'PersistentVolume'),
    metadata: refTo(ObjectMeta),
    spec: PersistentVolumeSpec,
    status: Type.Optional(PersistentVolumeStatus),
  },
  { $id: 'PersistentVolume' },
);
export type PersistentVolume = Static<typeof PersistentVolume>;

/* ----------------------------------------------------------------- StorageClass */

export const StorageClass = closed(
  {
    ...typeMeta('storage.k8s.io/v1', 'StorageClass'),
    metadata: refTo(ObjectMeta),
    /** Who makes the volumes: Grove's built-in local-path provisioner, or nobody (static volumes only). */
    provisioner: Type.String({ minLength: 1, maxLength: 253 }),
    parameters: Type.Optional(stringMap(Type.String({ maxLength: 1024 }), { maxProperties: 64 })),
    reclaimPolicy: Type.Optional(stringEnum(RECLAIM_POLICIES, { errorMessage: 'must be Retain or Delete' })),
    volumeBindingMode: Type.Optional(stringEnum(BINDING_MODES, { errorMessage: `must be ${BINDING_MODES.join(' or ')}` })),
    /** Recorded; the local-path provisioner has no size to grow (capacity is not enforced). */
    allowVolumeExpansion: Type.Optional(Type.Boolean()),
    ...unsupportedFields(['mountOptions', 'allowedTopologies']),
  },
  { $id: 'StorageClass' },
);
export type StorageClass = Static<typeof StorageClass>;
