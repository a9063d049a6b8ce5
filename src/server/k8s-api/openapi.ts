/**
 * The OpenAPI documents of the Kubernetes paths, generated from the kinds' schemas
 * (openapi-schema.ts translates them):
 *
 * - v3, one document per group version (`/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`) and
 *   the index listing them (`/openapi/v3`): what `kubectl explain` reads. Each kind's
 *   definition carries `x-kubernetes-group-version-kind`, and its paths the operations the
 *   server serves, each with the kind it acts on (explain finds a resource's kind from its
 *   paths; kubectl's field-validation check reads the PATCH operation's parameters).
 * - v2 (`/openapi/v2`, JSON or protobuf): the definitions only, what kubectl's client-side
 *   validation reads.
 *
 * The write operations list the `fieldValidation` query parameter, as a Kubernetes API server's
 * do: kubectl then leaves field validation to the server (fieldValidation=Strict by default,
 * Warn for `--validate=warn`, with Grove's messages naming the field) instead of checking the
 * manifest itself. As against Kubernetes, `kubectl apply --dry-run=client` therefore checks no
 * fields; `--dry-run=server` does. Pure.
 */
import { SHARED_SCHEMAS } from '../../core/objects/shared-schemas.js';
import { ALL_KINDS } from '../../core/objects/kinds.js';
import { KIND_TABLE } from '../../core/objects/kind-table.js';
import { groupVersionPath, type DiscoveryResource } from './discovery.js';
import { kindDefinitionName, sharedDefinitionName, translate, type Dialect, type Json, type TranslateContext } from './openapi-schema.js';

/** A resource with a schema: the stored kinds', or an extra that brings its own. */
interface SchemaResource {
  resource: DiscoveryResource;
  schema: Json;
}

function withSchemas(resources: readonly DiscoveryResource[]): SchemaResource[] {
  const out: SchemaResource[] = [];
  for (const r of resources) {
    if (r.plural.includes('/')) continue;
    const stored = ALL_KINDS.find((k) => k.kind === r.kind && k.group === r.group && k.version === r.version);
    const schema = (r.schema ?? (stored ? KIND_TABLE[stored.kind].schema : undefined)) as Json | undefined;
    if (schema) out.push({ resource: r, schema });
  }
  return out;
}

export { groupVersionPath };

/** The definitions of `resources` and every shared schema they reach, by definition name. */
function definitions(resources: readonly SchemaResource[], dialect: Dialect): Record<string, Json> {
  const shared = new Map(SHARED_SCHEMAS.map((s) => [s.$id as string, s as unknown as Json]));
  const ctx: TranslateContext = { dialect, shared, kinds: new Set(resources.map((r) => r.resource.kind)), reached: new Set() };
  const out: Record<string, Json> = {};
  for (const { resource: r, schema } of resources) {
    const gvk = { group: r.group, kind: r.kind, version: r.version };
    out[kindDefinitionName(r.group, r.version, r.kind)] = { ...translate(schema, r.kind, ctx), 'x-kubernetes-group-version-kind': [gvk] };
  }
  // Shared schemas reach others in turn: translate until nothing new is reached.
  const done = new Set<string>();
  for (let pending = [...ctx.reached]; pending.length; pending = [...ctx.reached].filter((id) => !done.has(id))) {
    for (const id of pending) {
      done.add(id);
      const schema = shared.get(id);
      if (schema) out[sharedDefinitionName(id)] = translate(schema, id, ctx);
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

type Action = 'list' | 'post' | 'get' | 'put' | 'patch' | 'delete';

const OPERATION_VERB: Record<Action, { method: string; verb: string }> = {
  list: { method: 'get', verb: 'list' },
  post: { method: 'post', verb: 'create' },
  get: { method: 'get', verb: 'get' },
  put: { method: 'put', verb: 'update' },
  patch: { method: 'patch', verb: 'patch' },
  delete: { method: 'delete', verb: 'delete' },
};

/** Query parameters of the writes that kubectl looks for (it validates fields itself without it). */
const FIELD_VALIDATION: Json = {
  name: 'fieldValidation',
  in: 'query',
  description: 'Strict (default: unknown or duplicate fields fail the request), Warn (dropped with a warning) or Ignore (dropped).',
  schema: { type: 'string', uniqueItems: true },
};

function operation(r: DiscoveryResource, action: Action): Json {
  const writes = action === 'post' || action === 'put' || action === 'patch';
  return {
    operationId: `${action}${r.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, kind: r.kind, version: r.version },
    parameters: writes ? [FIELD_VALIDATION] : [],
    responses: { '200': { description: 'OK' } },
  };
}

function pathItem(r: DiscoveryResource, actions: readonly Action[]): Json | undefined {
  const item: Json = {};
  for (const a of actions) if (r.verbs.includes(OPERATION_VERB[a].verb)) item[OPERATION_VERB[a].method] = operation(r, a);
  return Object.keys(item).length ? item : undefined;
}

/** The collection and item paths of a resource, with the operations it serves. */
function resourcePaths(r: DiscoveryResource): Record<string, Json> {
  const root = `/${groupVersionPath(r.group, r.version)}`;
  const scoped = r.namespaced ? `${root}/namespaces/{namespace}/${r.plural}` : `${root}/${r.plural}`;
  const entries: [string, Json | undefined][] = [
    [scoped, pathItem(r, ['list', 'post'])],
    [`${scoped}/{name}`, pathItem(r, ['get', 'put', 'patch', 'delete'])],
    ...(r.namespaced ? ([[`${root}/${r.plural}`, pathItem(r, ['list'])]] as [string, Json | undefined][]) : []),
  ];
  return Object.fromEntries(entries.filter((e): e is [string, Json] => e[1] !== undefined));
}

export interface OpenApiInfo {
  /** Grove's version, shown as the documents' version. */
  groveVersion: string;
}

/** The group versions that have a v3 document, as the index names them. */
export function openApiGroupVersions(resources: readonly DiscoveryResource[]): { path: string; group: string; version: string }[] {
  const seen = new Map<string, { path: string; group: string; version: string }>();
  for (const { resource: r } of withSchemas(resources)) seen.set(groupVersionPath(r.group, r.version), { path: groupVersionPath(r.group, r.version), group: r.group, version: r.version });
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The v3 document of one group version, or undefined when it has no schemas. */
export function openApiV3(resources: readonly DiscoveryResource[], group: string, version: string, info: OpenApiInfo): Json | undefined {
  const here = withSchemas(resources).filter((s) => s.resource.group === group && s.resource.version === version);
  if (here.length === 0) return undefined;
  const paths = Object.assign({}, ...here.map((s) => resourcePaths(s.resource))) as Json;
  return {
    openapi: '3.0.0',
    info: { title: 'Grove', version: info.groveVersion },
    paths,
    components: { schemas: definitions(here, 'v3') },
  };
}

/** The v3 index: each group version's document, at a URL that changes with its content. */
export function openApiV3Index(hashes: readonly { path: string; hash: string }[]): Json {
  return { paths: Object.fromEntries(hashes.map((h) => [h.path, { serverRelativeURL: `/openapi/v3/${h.path}?hash=${h.hash}` }])) };
}

/** The v2 document: every kind's definition (no paths; kubectl's validation reads definitions). */
export function openApiV2(resources: readonly DiscoveryResource[], info: OpenApiInfo): Json {
  return {
    swagger: '2.0',
    info: { title: 'Grove', version: info.groveVersion },
    paths: {},
    definitions: definitions(withSchemas(resources), 'v2'),
  };
}
