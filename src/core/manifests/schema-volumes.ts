/**
 * JSON Schema definitions of Kubernetes volumes, volumeMounts, env valueFrom and envFrom (the
 * subset Grove runs: emptyDir, hostPath, persistentVolumeClaim as a named node volume,
 * configMap, secret). Rules across fields (exactly one source, mounts naming a volume, one
 * mount per path) are checked in code (k8s-volumes.ts, src/core/wire-volumes.ts).
 */
import { CONFIG_KEY, closed, DNS_LABEL, DNS_LABEL_MESSAGE, DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, pattern, quantity, ref, unsupportedFields, type JsonSchema } from './schema-parts.js';

const volumeName = pattern(DNS_LABEL, DNS_LABEL_MESSAGE, { maxLength: 63 });
const objectName = pattern(DNS_SUBDOMAIN, DNS_SUBDOMAIN_MESSAGE, { maxLength: 253 });
const configKey = pattern(CONFIG_KEY, 'must be letters, digits, -, _ or .', { maxLength: 253 });
const fileMode: JsonSchema = { type: 'integer', minimum: 0, maximum: 0o777 };
const path: JsonSchema = { type: 'string', minLength: 1, maxLength: 4096 };

const items: JsonSchema = {
  type: 'array',
  maxItems: 256,
  items: closed({ key: configKey, path, mode: fileMode }, ['key', 'path']),
};

/** Volume sources Kubernetes has and Grove does not (network and cloud storage, projections). */
const UNSUPPORTED_SOURCES = [
  'projected', 'downwardAPI', 'csi', 'ephemeral', 'nfs', 'iscsi', 'rbd', 'cephfs', 'glusterfs', 'fc', 'flexVolume',
  'flocker', 'gitRepo', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'vsphereVolume',
  'quobyte', 'portworxVolume', 'scaleIO', 'storageos', 'photonPersistentDisk', 'image',
];

export function volumeDefinitions(): Record<string, JsonSchema> {
  return {
    Volume: closed(
      {
        name: volumeName,
        emptyDir: closed({
          medium: { enum: ['', 'Memory'], errorMessage: 'must be "" (the node\'s disk) or Memory (tmpfs)' },
          sizeLimit: quantity,
        }),
        hostPath: closed(
          {
            path,
            type: { enum: ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] },
          },
          ['path'],
        ),
        // No PersistentVolumeClaim objects: the claim name names a volume kept on the node.
        persistentVolumeClaim: closed({ claimName: volumeName, readOnly: { type: 'boolean' } }, ['claimName']),
        configMap: closed({ name: objectName, items, defaultMode: fileMode, optional: { type: 'boolean' } }, ['name']),
        secret: closed({ secretName: objectName, items, defaultMode: fileMode, optional: { type: 'boolean' } }, ['secretName']),
        ...unsupportedFields(UNSUPPORTED_SOURCES),
      },
      ['name'],
    ),
    VolumeMount: closed(
      {
        name: volumeName,
        mountPath: path,
        readOnly: { type: 'boolean' },
        subPath: path,
        ...unsupportedFields(['subPathExpr', 'mountPropagation', 'recursiveReadOnly']),
      },
      ['name', 'mountPath'],
    ),
    EnvVarSource: closed({
      configMapKeyRef: closed({ name: objectName, key: configKey, optional: { type: 'boolean' } }, ['name', 'key']),
      secretKeyRef: closed({ name: objectName, key: configKey, optional: { type: 'boolean' } }, ['name', 'key']),
      ...unsupportedFields(['fieldRef', 'resourceFieldRef', 'fileKeyRef']),
    }),
    EnvFromSource: closed({
      configMapRef: closed({ name: objectName, optional: { type: 'boolean' } }, ['name']),
      secretRef: closed({ name: objectName, optional: { type: 'boolean' } }, ['name']),
      prefix: { type: 'string', maxLength: 253 },
    }),
  };
}

export const volumeRefs = {
  volumes: { type: 'array', maxItems: 64, items: ref('Volume') },
  volumeMounts: { type: 'array', maxItems: 64, items: ref('VolumeMount') },
  envFrom: { type: 'array', maxItems: 64, items: ref('EnvFromSource') },
  valueFrom: ref('EnvVarSource'),
} satisfies Record<string, JsonSchema>;
