/**
 * JSON Schema of compose volumes: a service's long-syntax volume entries and the file's
 * top-level named volumes (local driver only; external and driver options are refused by name).
 */
import { closed, quantity, unsupported, unsupportedFields, type JsonSchema } from './schema-parts.js';

const EXTENSIONS = { '^x-': {} };
const open = (fields: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ ...closed(fields, required), patternProperties: EXTENSIONS });

export function composeVolumeDefinitions(): Record<string, JsonSchema> {
  return {
    ComposeServiceVolume: open(
      {
        type: { enum: ['volume', 'bind', 'tmpfs'], errorMessage: 'must be volume, bind or tmpfs (npipe, cluster and image are not supported)' },
        source: { type: 'string', minLength: 1 },
        target: { type: 'string', minLength: 1 },
        read_only: { type: 'boolean' },
        bind: open({ create_host_path: { type: 'boolean' }, ...unsupportedFields(['propagation', 'selinux', 'recursive']) }),
        // Grove never copies the image's files into a new volume: nocopy is what it always does.
        volume: open({ nocopy: { type: 'boolean' }, subpath: { type: 'string', minLength: 1 } }),
        tmpfs: open({ size: quantity, mode: unsupported('not supported: a tmpfs volume is mode 0777, as every emptyDir') }),
        consistency: { type: 'string' },
      },
      ['type', 'target'],
    ),
    ComposeVolume: open({
      name: { type: 'string', minLength: 1 },
      driver: { const: 'local', errorMessage: 'must be local: volumes live on the node' },
      labels: { type: ['array', 'object'] },
      external: unsupported('not supported: Grove creates named volumes on the node itself'),
      driver_opts: unsupported(),
    }),
  };
}
