/**
 * Grove's object schemas (TypeBox → JSON Schema draft-07, src/core/objects) as the OpenAPI
 * schemas kubectl reads: `kubectl explain` (v3, JSON), client-side validation and the
 * strategic-merge-patch metadata of `kubectl apply` (v2 protobuf and v3). Only what those
 * readers use is kept — types, properties, required, items, maps, enums, descriptions and the
 * `x-kubernetes-*` list annotations — so the documents stay small and no reader trips on a
 * draft-07 keyword OpenAPI lacks. Checks beyond that (patterns, bounds, oneOf) stay the server's:
 * what the documents let through, the server still validates. Pure.
 *
 * - `$ref` to a shared schema (or an `allOf` led by one, whose other members only narrow it)
 *   becomes a reference to a named definition; Labels and Annotations are inlined as maps.
 * - A field Grove rejects by name (`unsupported`, kit.ts) is listed with no type and a
 *   description saying so: clients pass it, the server refuses it with its reason.
 * - Type unions become strings with a format (int-or-string, quantity), as Kubernetes publishes
 *   IntOrString and Quantity; kubectl's validation accepts numbers where a string is declared.
 * - For v2, objects with properties carry no `type` (every kube-openapi version reads them as
 *   structs then) and objects without properties or a value schema none at all (arbitrary).
 */
import { isUnsupportedMarker } from '../../core/objects/kit.js';
import { FIELD_DESCRIPTIONS } from './openapi-descriptions.js';

export type Json = Record<string, unknown>;
export type Dialect = 'v2' | 'v3';

/** Definition names of the shared schemas, Kubernetes' where the schema mirrors a Kubernetes type. */
const SHARED_NAMES: Readonly<Record<string, string>> = {
  ObjectMeta: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  LabelSelector: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  Condition: 'io.k8s.apimachinery.pkg.apis.meta.v1.Condition',
  Probe: 'io.k8s.api.core.v1.Probe',
  Container: 'io.k8s.api.core.v1.Container',
  Volume: 'io.k8s.api.core.v1.Volume',
  PodSpec: 'io.k8s.api.core.v1.PodSpec',
  ContainerState: 'io.k8s.api.core.v1.ContainerState',
  ContainerStatus: 'io.k8s.api.core.v1.ContainerStatus',
  PodStatus: 'io.k8s.api.core.v1.PodStatus',
  AlwaysPodTemplate: 'io.k8s.api.core.v1.PodTemplateSpec',
  JobSpec: 'io.k8s.api.batch.v1.JobSpec',
  NodeSelectorTerm: 'io.k8s.api.core.v1.NodeSelectorTerm',
  PodAffinityTerm: 'io.k8s.api.core.v1.PodAffinityTerm',
};

/** Shared schemas written in place: maps read better inline (`map[string]string` in explain). */
const INLINED = new Set(['Labels', 'Annotations']);

export function sharedDefinitionName(id: string): string {
  return SHARED_NAMES[id] ?? `dev.grove.v1.${id}`;
}

/** "io.k8s.api.apps.v1.Deployment", as Kubernetes names its kinds' definitions. */
export function kindDefinitionName(group: string, version: string, kind: string): string {
  return `io.k8s.api.${group ? group.split('.')[0] : 'core'}.${version}.${kind}`;
}

export interface TranslateContext {
  dialect: Dialect;
  /** Shared schemas by `$id`. */
  shared: ReadonlyMap<string, Json>;
  /** Kind names: `*.<field>` descriptions apply to their top-level fields. */
  kinds: ReadonlySet<string>;
  /** Filled with the `$id`s the translated schemas reference. */
  reached: Set<string>;
}

function refPath(dialect: Dialect, name: string): string {
  return dialect === 'v3' ? `#/components/schemas/${name}` : `#/definitions/${name}`;
}

function descriptionFor(key: string | undefined, node: Json, ctx: TranslateContext): string | undefined {
  if (typeof node.description === 'string') return node.description;
  if (key === undefined) return undefined;
  const own = FIELD_DESCRIPTIONS[key];
  if (own !== undefined) return own;
  const dot = key.indexOf('.');
  if (dot > 0 && ctx.kinds.has(key.slice(0, dot)) && key.indexOf('.', dot + 1) < 0) return FIELD_DESCRIPTIONS[`*${key.slice(dot)}`];
  return undefined;
}

function extensions(node: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) if (k.startsWith('x-kubernetes-')) out[k] = v;
  return out;
}

function refId(node: unknown): string | undefined {
  return typeof node === 'object' && node !== null && typeof (node as Json).$ref === 'string' ? ((node as Json).$ref as string) : undefined;
}

function reference(id: string, key: string | undefined, node: Json, ctx: TranslateContext): Json {
  const target = ctx.shared.get(id);
  if (INLINED.has(id) && target) return translate(target, key, ctx, node);
  ctx.reached.add(id);
  const ref = refPath(ctx.dialect, sharedDefinitionName(id));
  const description = descriptionFor(key, node, ctx);
  const extra = { ...(description !== undefined ? { description } : {}), ...extensions(node) };
  if (Object.keys(extra).length === 0) return { $ref: ref };
  // v3 puts what a field adds to a reference beside an allOf of it, as Kubernetes does.
  return ctx.dialect === 'v3' ? { allOf: [{ $ref: ref }], ...extra } : { $ref: ref, ...extra };
}

function typeOf(node: Json): { type?: string; format?: string } {
  const t = node.type;
  if (!Array.isArray(t)) return typeof t === 'string' ? { type: t, ...(typeof node.format === 'string' ? { format: node.format } : {}) } : {};
  const types = t.filter((x) => x !== 'null') as string[];
  if (types.length === 1) return { type: types[0]! };
  if (types.includes('string') && types.includes('integer')) return { type: 'string', format: 'int-or-string' };
  if (types.includes('string') && types.includes('number')) return { type: 'string', format: 'quantity' };
  return {}; // any other union: arbitrary
}

/**
 * One schema node as OpenAPI. `key` names the field for descriptions ("Deployment.spec");
 * `outer` is the node that referenced an inlined schema (its description and annotations win).
 */
export function translate(node: Json, key: string | undefined, ctx: TranslateContext, outer: Json = node): Json {
  const ref = refId(node);
  if (ref !== undefined) return reference(ref, key, node, ctx);
  if (Array.isArray(node.allOf)) {
    // Grove's allOf is a shared schema narrowed for one use (metadata with a shorter name,
    // a pod template whose restartPolicy must be Always): published as the shared schema.
    const led = node.allOf.map(refId).find((id) => id !== undefined);
    if (led !== undefined) return reference(led, key, node, ctx);
  }
  const description = descriptionFor(key, outer, ctx) ?? descriptionFor(key, node, ctx);
  if (isUnsupportedMarker(node)) {
    const why = typeof node.errorMessage === 'string' ? node.errorMessage : 'not supported';
    return { description: description ?? `Not supported by Grove (${why}): a manifest that sets it is refused.` };
  }
  const out: Json = { ...(description !== undefined ? { description } : {}) };
  const { type, format } = typeOf(node);
  const properties = typeof node.properties === 'object' && node.properties !== null ? (node.properties as Record<string, Json>) : undefined;
  const values = typeof node.additionalProperties === 'object' && node.additionalProperties !== null ? (node.additionalProperties as Json) : undefined;
  if (type === 'object' || properties) {
    if (properties) {
      out.properties = Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, translate(sub, key === undefined ? undefined : `${key}.${name}`, ctx)]));
      if (ctx.dialect === 'v3') out.type = 'object';
    } else if (values) {
      out.type = 'object';
      out.additionalProperties = translate(values, undefined, ctx);
    } else if (ctx.dialect === 'v3') {
      out.type = 'object';
    }
    if (Array.isArray(node.required) && node.required.length && properties) out.required = [...(node.required as string[])];
  } else if (type === 'array') {
    if (typeof node.items === 'object' && node.items !== null && !Array.isArray(node.items)) {
      out.type = 'array';
      out.items = translate(node.items as Json, undefined, ctx);
    }
  } else if (type !== undefined) {
    out.type = type;
    if (format !== undefined) out.format = format;
    if (Array.isArray(node.enum) && node.enum.every((v) => typeof v === 'string')) out.enum = [...(node.enum as string[])];
  }
  return { ...out, ...extensions(node), ...(outer !== node ? extensions(outer) : {}) };
}
