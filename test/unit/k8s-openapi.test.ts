/** OpenAPI documents from the object schemas: what kubectl explain and client-side validation read. */
import { describe, expect, it } from 'vitest';
import { SHARED_SCHEMAS } from '../../src/core/objects/shared-schemas.js';
import { KINDS } from '../../src/core/objects/kinds.js';
import { KIND_TABLE } from '../../src/core/objects/kind-table.js';
import { kindResources } from '../../src/server/k8s-api/discovery.js';
import { openApiGroupVersions, openApiV2, openApiV3, openApiV3Index } from '../../src/server/k8s-api/openapi.js';
import { FIELD_DESCRIPTIONS } from '../../src/server/k8s-api/openapi-descriptions.js';
import { openApiV2Protobuf } from '../../src/server/k8s-api/openapi-protobuf.js';

type Json = Record<string, any>;
const resources = kindResources();
const INFO = { groveVersion: '0.1.0' };
const apps = openApiV3(resources, 'apps', 'v1', INFO) as Json;
const core = openApiV3(resources, '', 'v1', INFO) as Json;
const v2 = openApiV2(resources, INFO) as Json;

/** Follows a `$ref` (or an allOf of one) in a v3 document. */
function resolve(doc: Json, schema: Json): Json {
  const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
  return ref ? doc.components.schemas[ref.slice('#/components/schemas/'.length)] : schema;
}

describe('OpenAPI v3', () => {
  it('has one document per group version of the stored kinds, listed in the index by hash', () => {
    expect(openApiGroupVersions(resources).map((g) => g.path)).toEqual(['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1', 'apis/storage.k8s.io/v1']);
    expect(openApiV3(resources, 'policy', 'v1', INFO)).toBeUndefined();
    expect(openApiV3Index([{ path: 'apis/apps/v1', hash: 'abc' }])).toEqual({ paths: { 'apis/apps/v1': { serverRelativeURL: '/openapi/v3/apis/apps/v1?hash=abc' } } });
  });

  it('describes Deployment.spec.replicas as kubectl explain shows it: its type and its description', () => {
    const deployment = apps.components.schemas['io.k8s.api.apps.v1.Deployment'];
    expect(deployment['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(deployment.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(deployment.properties.spec.properties.replicas).toEqual({ type: 'integer', description: FIELD_DESCRIPTIONS['Deployment.spec.replicas'] });
    expect(deployment.properties.apiVersion.description).toBe(FIELD_DESCRIPTIONS['*.apiVersion']);
    // A shared schema is a named definition, its reference wrapped as Kubernetes does.
    const template = resolve(apps, deployment.properties.spec.properties.template);
    expect(template).toBe(apps.components.schemas['io.k8s.api.core.v1.PodTemplateSpec']);
    expect(resolve(apps, template.properties.spec)).toBe(apps.components.schemas['io.k8s.api.core.v1.PodSpec']);
    // IntOrString and maps as Kubernetes publishes them; fields Grove refuses listed as such.
    expect(deployment.properties.spec.properties.strategy.properties.rollingUpdate.properties.maxSurge).toMatchObject({ type: 'string', format: 'int-or-string' });
    expect(deployment.properties.spec.properties.paused).toEqual({ description: FIELD_DESCRIPTIONS['Deployment.spec.paused'] });
    const meta = apps.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'];
    expect(meta.properties.labels).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(meta.properties.generateName.description).toMatch(/^Not supported by Grove/);
  });

  it('lists each resource path with the operations served, each naming its kind (explain finds kinds this way)', () => {
    const item = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(item.get['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', kind: 'Deployment', version: 'v1' });
    // fieldValidation on the writes, as Kubernetes announces it: kubectl leaves validation to the server.
    for (const op of ['patch', 'put']) expect(item[op].parameters.map((p: { name: string }) => p.name)).toEqual(['fieldValidation']);
    expect(item.get.parameters).toEqual([]);
    expect(apps.paths['/apis/apps/v1/deployments']).toHaveProperty('get');
    // Nodes join with a token: no create (post); they are read, patched and deleted.
    expect(Object.keys(core.paths['/api/v1/nodes/{name}']).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(Object.keys(core.paths['/api/v1/nodes'])).toEqual(['get']);
    expect(core.paths['/api/v1/pods']).toBeDefined();
  });

  it('uses only OpenAPI 3.0 forms: one type per schema, no draft-07 keywords', () => {
    const text = JSON.stringify([apps, core]);
    for (const keyword of ['"if"', '"oneOf"', '"const"', '"not"', '"propertyNames"', '"patternProperties"', '"errorMessage"', '"$id"']) expect(text).not.toContain(keyword);
    expect(text).not.toMatch(/"type":\[/);
  });

  it('publishes the x-kubernetes-* list annotations a schema carries', () => {
    const [pod] = [KIND_TABLE.Pod.schema as Json];
    const annotated = { ...resources.find((r) => r.kind === 'Pod')!, schema: { ...pod, properties: { ...pod.properties, spec: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } } } } } };
    const doc = openApiV3([annotated], '', 'v1', INFO) as Json;
    expect(doc.components.schemas['io.k8s.api.core.v1.Pod'].properties.spec.properties.tags['x-kubernetes-list-type']).toBe('set');
  });
});

describe('OpenAPI v2', () => {
  it('holds every kind and every shared schema they reach, references resolving, objects with properties untyped', () => {
    const names = Object.keys(v2.definitions);
    for (const k of Object.values(KINDS)) expect(names).toContain(`io.k8s.api.${k.group ? k.group.split('.')[0] : 'core'}.v1.${k.kind}`);
    const refs = [...JSON.stringify(v2).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) expect(names).toContain(ref);
    const deployment = v2.definitions['io.k8s.api.apps.v1.Deployment'];
    expect(deployment.type).toBeUndefined();
    expect(deployment.properties.metadata).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: FIELD_DESCRIPTIONS['*.metadata'] });
    expect(JSON.stringify(v2)).not.toContain('allOf');
  });

  it('encodes as gnostic protobuf: swagger version, info and each definition with its name', () => {
    const bytes = openApiV2Protobuf(v2);
    const fields = readMessage(bytes);
    expect(fields.get(1)?.[0]?.toString()).toBe('2.0');
    const definitions = readMessage(fields.get(9)![0]!).get(1)!.map((named) => readMessage(named));
    expect(definitions.map((d) => d.get(1)![0]!.toString())).toEqual(Object.keys(v2.definitions));
    const deployment = readMessage(definitions.find((d) => d.get(1)![0]!.toString() === 'io.k8s.api.apps.v1.Deployment')!.get(2)![0]!);
    // required (19), properties (25), the GVK vendor extension (31) with its YAML (JSON) value.
    expect(deployment.get(19)!.map(String)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(deployment.get(25)).toHaveLength(1);
    const extension = readMessage(deployment.get(31)![0]!);
    expect(extension.get(1)![0]!.toString()).toBe('x-kubernetes-group-version-kind');
    expect(JSON.parse(readMessage(extension.get(2)![0]!).get(2)![0]!.toString())).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });
});

describe('descriptions', () => {
  it('name only fields the schemas have', () => {
    const shared = new Map(SHARED_SCHEMAS.map((s) => [s.$id as string, s as Json]));
    const roots = new Map<string, Json>([...Object.entries(KIND_TABLE).map(([kind, row]) => [kind, row.schema as Json] as [string, Json]), ...shared]);
    const follow = (node: Json | undefined): Json | undefined => {
      const ref = node?.$ref ?? node?.allOf?.find((s: Json) => s.$ref)?.$ref;
      return ref ? follow(shared.get(ref)) : node;
    };
    const at = (start: Json | undefined, path: string[]) => path.reduce((node, name) => follow(node?.properties?.[name]), follow(start));
    for (const key of Object.keys(FIELD_DESCRIPTIONS)) {
      const [root, ...path] = key.split('.');
      // `*.field`: a field of some kinds (ConfigMap has no spec).
      const starts = root === '*' ? Object.values(KIND_TABLE).map((row) => row.schema as Json) : [roots.get(root!)];
      expect(starts.some((start) => at(start, path) !== undefined), key).toBe(true);
    }
  });
});

/** A protobuf message's length-delimited fields by number (enough for these documents). */
function readMessage(buf: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let i = 0;
  const varint = (): number => {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = buf[i++]!;
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      shift *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    if (key % 8 === 0) {
      varint();
      continue;
    }
    const len = varint();
    out.set(field, [...(out.get(field) ?? []), buf.subarray(i, i + len)]);
    i += len;
  }
  return out;
}
