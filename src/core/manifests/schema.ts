/**
 * The published JSON Schema of Grove manifests, embedded so that the package needs no file at
 * run time. docs/schema/grove-manifests.schema.json is this object written out; a unit test
 * keeps the two equal.
 */
import { composeDefinitions } from './schema-compose.js';
import { OBJECT_DOCUMENTS, objectDefinitions } from './schema-objects.js';
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
      `(${OBJECT_DOCUMENTS.join(', ')}; the object schemas of src/core/objects) or a docker-compose file. ` +
      'See docs/manifests.md.',
    oneOf: [...OBJECT_DOCUMENTS.map((d) => ref(d)), ref('ComposeFile')],
    definitions: { ...objectDefinitions(), ...composeDefinitions() },
  });
}
