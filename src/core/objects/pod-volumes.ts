/**
 * Pod volumes, container volumeMounts, env valueFrom and envFrom: the subset Grove runs
 * (emptyDir, hostPath, persistentVolumeClaim as a named node volume, configMap, secret).
 * Rules across a pod (mounts naming a volume, unique names and paths) are in pod-rules.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { VOLUME_LIMITS } from './limits.js';
import { closed, configKey, dnsLabel, dnsSubdomain, pattern, quantity, stringEnum, unsupported, unsupportedFields } from './kit.js';
import { ENV_FIELD_PATH, ENV_FIELD_PATH_MESSAGE, RESOURCE_FIELDS, VOLUME_FIELD_PATH, VOLUME_FIELD_PATH_MESSAGE } from '../downward-api.js';

export { VOLUME_LIMITS };

/** No ".." part and no NUL: the path stays where it is put. */
const NO_DOTDOT = '(?!(?:.*/)?\\.\\.(?:/|$))[^\\u0000]*';

/** An absolute path without ".." parts (hostPath.path, mountPath). */
export const absolutePath = () =>
  pattern(`^/${NO_DOTDOT}$`, 'must be an absolute path without ".." parts', { minLength: 1, maxLength: VOLUME_LIMITS.path });

/**
 * A relative path that stays inside its volume (subPath, items[].path): no leading "/", no ".."
 * part, not starting with ".." (the atomic writer keeps its own entries there), names a file.
 */
export const relativePath = () =>
  pattern(`^(?!/)(?!\\.\\.)(?=.*[^/.])${NO_DOTDOT}$`, 'must be a relative path inside the volume: no leading "/", no ".." parts, not starting with ".."', {
    minLength: 1,
    maxLength: VOLUME_LIMITS.path,
  });

const fileMode = (options: { default?: number } = {}) =>
  Type.Integer({ minimum: 0, maximum: 0o777, errorMessage: 'must be a file mode from 0 to 0777 (511)', ...options });

export const KeyToPath = closed({ key: configKey(), path: relativePath(), mode: Type.Optional(fileMode()) });
export type KeyToPath = Static<typeof KeyToPath>;

const items = () => Type.Optional(Type.Array(KeyToPath, { maxItems: VOLUME_LIMITS.items }));

/**
 * Kubernetes' hostPath types, plus Grove's `ComposeBind` (what compose binds become): what
 * exists is mounted as it is and a missing path is created as a directory, as docker does.
 */
export const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice', 'ComposeBind'] as const;

/** Volume sources Kubernetes has and Grove does not (network and cloud storage, projections). */
const UNSUPPORTED_SOURCES = [
  'csi', 'ephemeral', 'nfs', 'iscsi', 'rbd', 'cephfs', 'glusterfs', 'fc', 'flexVolume',
  'flocker', 'gitRepo', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'vsphereVolume',
  'quobyte', 'portworxVolume', 'scaleIO', 'storageos', 'photonPersistentDisk', 'image',
] as const;

export const VOLUME_SOURCES = ['emptyDir', 'hostPath', 'persistentVolumeClaim', 'configMap', 'secret', 'downwardAPI', 'projected'] as const;

/* The downward API (src/core/downward-api.ts): the pod's own fields and its containers' resources. */

/** env[].valueFrom.fieldRef and downwardAPI items: one field of the pod. */
const objectFieldSelector = (path: string, message: string) =>
  closed({ apiVersion: Type.Optional(stringEnum(['v1'], { errorMessage: 'must be v1' })), fieldPath: pattern(path, message, { maxLength: 400 }) });

const resourceFields = () => ({
  resource: stringEnum(RESOURCE_FIELDS, { errorMessage: `must be one of ${RESOURCE_FIELDS.join(', ')} (ephemeral-storage and hugepages are not tracked)` }),
  /** The unit the value is written in, rounded up (default 1: cores, bytes). */
  divisor: Type.Optional(quantity('a unit such as 1m, 1, 1Mi')),
});

/** A container's limit or request in env: `containerName` absent = the container whose env it is. */
const envResourceSelector = () => closed({ containerName: Type.Optional(dnsLabel()), ...resourceFields() });

/** The same in a volume file, where the container must be named. */
const volumeResourceSelector = () => closed({ containerName: dnsLabel(), ...resourceFields() });

/** One file of a downwardAPI volume (or projection): a pod field or a container resource. */
export const DownwardAPIVolumeFile = closed(
  {
    path: relativePath(),
    fieldRef: Type.Optional(objectFieldSelector(VOLUME_FIELD_PATH, VOLUME_FIELD_PATH_MESSAGE)),
    resourceFieldRef: Type.Optional(volumeResourceSelector()),
    mode: Type.Optional(fileMode()),
  },
  exactlyOne(['fieldRef', 'resourceFieldRef']),
);
export type DownwardAPIVolumeFile = Static<typeof DownwardAPIVolumeFile>;

const downwardItems = () => Type.Array(DownwardAPIVolumeFile, { maxItems: VOLUME_LIMITS.items });

/** One source of a projected volume: its files land side by side in one directory. */
export const VolumeProjection = closed(
  {
    configMap: Type.Optional(closed({ name: dnsSubdomain(), items: items(), optional: Type.Optional(Type.Boolean()) })),
    secret: Type.Optional(closed({ name: dnsSubdomain(), items: items(), optional: Type.Optional(Type.Boolean()) })),
    downwardAPI: Type.Optional(closed({ items: Type.Optional(downwardItems()) })),
    serviceAccountToken: Type.Optional(unsupported('pods get no Kubernetes API token from Grove (docs/manifests.md#service-accounts)')),
    clusterTrustBundle: Type.Optional(unsupported()),
    podCertificate: Type.Optional(unsupported()),
  },
  exactlyOne(['configMap', 'secret', 'downwardAPI']),
);
export type VolumeProjection = Static<typeof VolumeProjection>;

/** "exactly one of a, b": a oneOf of `required`, worded once for every formatter. */
export function exactlyOne(names: readonly string[]) {
  return { oneOf: names.map((n) => ({ required: [n] })), errorMessage: `expected exactly one of ${names.join(', ')}` };
}

export const Volume = closed(
  {
    name: dnsLabel(),
    emptyDir: Type.Optional(
      closed({
        medium: Type.Optional(stringEnum(['', 'Memory'], { errorMessage: 'must be "" (the node\'s disk) or Memory (tmpfs)' })),
        sizeLimit: Type.Optional(quantity('a size such as 64Mi or 1Gi')),
      }),
    ),
    hostPath: Type.Optional(
      closed({ path: absolutePath(), type: Type.Optional(stringEnum(HOST_PATH_TYPES, { errorMessage: `must be one of ${HOST_PATH_TYPES.filter(Boolean).join(', ')} (or "")` })) }),
    ),
    /** No PersistentVolumeClaim objects yet: the claim name names a volume kept on the node. */
    persistentVolumeClaim: Type.Optional(closed({ claimName: dnsLabel(), readOnly: Type.Optional(Type.Boolean()) })),
    configMap: Type.Optional(
      closed({ name: dnsSubdomain(), items: items(), defaultMode: Type.Optional(fileMode({ default: 0o644 })), optional: Type.Optional(Type.Boolean()) }),
    ),
    secret: Type.Optional(
      closed({ secretName: dnsSubdomain(), items: items(), defaultMode: Type.Optional(fileMode({ default: 0o644 })), optional: Type.Optional(Type.Boolean()) }),
    ),
    downwardAPI: Type.Optional(closed({ items: Type.Optional(downwardItems()), defaultMode: Type.Optional(fileMode({ default: 0o644 })) })),
    projected: Type.Optional(closed({ sources: Type.Optional(Type.Array(VolumeProjection, { maxItems: VOLUME_LIMITS.items })), defaultMode: Type.Optional(fileMode({ default: 0o644 })) })),
    ...unsupportedFields(UNSUPPORTED_SOURCES),
  },
  { $id: 'Volume', ...exactlyOne(VOLUME_SOURCES) },
);
export type Volume = Static<typeof Volume>;

/** Container paths the runtime owns: nothing may be mounted over them. */
const RESERVED_MOUNT = '^/+(?:(?:proc|sys|dev)/*)?$';

export const VolumeMount = closed({
  name: dnsLabel(),
  mountPath: Type.Intersect([absolutePath(), Type.Unsafe<string>({ not: { type: 'string', pattern: RESERVED_MOUNT }, errorMessage: 'is managed by the runtime and cannot be a mount target' })]),
  readOnly: Type.Optional(Type.Boolean()),
  subPath: Type.Optional(relativePath()),
  ...unsupportedFields(['subPathExpr', 'mountPropagation', 'recursiveReadOnly']),
});
export type VolumeMount = Static<typeof VolumeMount>;

const keyRef = () => closed({ name: dnsSubdomain(), key: configKey(), optional: Type.Optional(Type.Boolean()) });

export const EnvVarSource = closed(
  {
    configMapKeyRef: Type.Optional(keyRef()),
    secretKeyRef: Type.Optional(keyRef()),
    fieldRef: Type.Optional(objectFieldSelector(ENV_FIELD_PATH, ENV_FIELD_PATH_MESSAGE)),
    resourceFieldRef: Type.Optional(envResourceSelector()),
    ...unsupportedFields(['fileKeyRef']),
  },
  exactlyOne(['configMapKeyRef', 'secretKeyRef', 'fieldRef', 'resourceFieldRef']),
);
export type EnvVarSource = Static<typeof EnvVarSource>;

const objectRef = () => closed({ name: dnsSubdomain(), optional: Type.Optional(Type.Boolean()) });

export const EnvFromSource = closed(
  {
    configMapRef: Type.Optional(objectRef()),
    secretRef: Type.Optional(objectRef()),
    prefix: Type.Optional(pattern('^[^=]*$', 'must not contain "="', { maxLength: VOLUME_LIMITS.prefix })),
  },
  exactlyOne(['configMapRef', 'secretRef']),
);
export type EnvFromSource = Static<typeof EnvFromSource>;
