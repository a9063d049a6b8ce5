/**
 * The published JSON Schema of Grove manifests, embedded so that the package needs no file at
 * run time. docs/schema/grove-manifests.schema.json is this object written out; a unit test
 * keeps the two equal.
 */
import { composeDefinitions } from './schema-compose.js';
import { kubernetesDefinitions } from './schema-kubernetes.js';
import { ref, type JsonSchema } from './schema-parts.js';

export const MANIFEST_SCHEMA_ID = 'https://grove.invalid/schema/grove-manifests.schema.json';

/**
 * A fresh deep copy each call: the building blocks are shared constants, and callers (ajv
 * included) may keep or annotate what they get.
 */
export function manifestSchema(): JsonSchema {
  return structuredClone({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: MANIFEST_SCHEMA_ID,
    title: 'Grove manifest document',
    description:
      'One YAML document of a file given to `grove apply`: a Kubernetes object of the supported subset ' +
      '(apps/v1 Deployment and DaemonSet, batch/v1 Job and CronJob, v1 ConfigMap, Secret and List) or a docker-compose file. ' +
      'See docs/manifests.md.',
    oneOf: [ref('Deployment'), ref('DaemonSet'), ref('Job'), ref('CronJob'), ref('ConfigMap'), ref('Secret'), ref('List'), ref('ComposeFile')],
    definitions: { ...kubernetesDefinitions(), ...composeDefinitions() },
  });
}
