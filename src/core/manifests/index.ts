/**
 * Manifests → Grove resources. Pure: the CLI reads files and stdin and passes the text in.
 * Every problem is a ManifestInvalid GroveError with one line that names the file, the line,
 * the document, the resource and the field (see docs/manifests.md).
 */
import { ErrorCode, GroveError } from '../errors.js';
import type { AppliedResource } from '../model.js';
import { composeResources } from './compose.js';
import { kubernetesResources } from './kubernetes.js';
import { manifestError, quote, type DocContext, type LocatedResource } from './location.js';
import { parseYamlDocuments } from './parse.js';
import { createManifestValidator, type ManifestValidator } from './validate.js';

export { createManifestValidator, type ManifestValidator } from './validate.js';
export { manifestSchema, MANIFEST_SCHEMA_ID } from './schema.js';
export { MAX_DOCUMENTS, MAX_MANIFEST_BYTES } from './parse.js';

/** At most this many resources from one text (a List or a compose file holds several). */
export const MAX_RESOURCES = 200;

export interface ParseManifestsOptions {
  /** Reuse a validator (its compiled schema) across calls; a new one is made otherwise. */
  validator?: ManifestValidator;
  /** The manifest file's directory: compose "./relative" bind mounts resolve against it. */
  dir?: string;
}

/** `apps/web`, `configmaps/settings`, `secrets/db`: the store collection and name. */
export function resourceKey(r: AppliedResource): string {
  const collection = r.kind === 'App' ? 'apps' : r.kind === 'ConfigMap' ? 'configmaps' : 'secrets';
  return `${collection}/${r.meta.name}`;
}

/** `Deployment "web"`, `ConfigMap "settings"`: how messages name a resource. */
export function describeResource(r: AppliedResource): string {
  return `${r.kind === 'App' ? r.spec.kind : r.kind} ${quote(r.meta.name)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function origin(r: AppliedResource, file: string | undefined): string {
  const s = r.meta.source;
  const where = s?.file !== undefined && s.file !== file ? `${s.file} (document ${s.document ?? '?'})` : `document ${s?.document ?? '?'}`;
  return `${describeResource(r)} in ${where}`;
}

/**
 * Parses one manifest text: Kubernetes objects (a document with apiVersion/kind) and compose
 * files (a document with services) may be mixed, one per YAML document. Empty documents are
 * skipped. Two resources with the same key (say two apps "web") are an error.
 */
export function parseManifests(text: string, source: { file: string }, options: ParseManifestsOptions = {}): AppliedResource[] {
  const validator = options.validator ?? createManifestValidator();
  const byKey = new Map<string, AppliedResource>();
  const out: AppliedResource[] = [];
  for (const doc of parseYamlDocuments(text, source.file)) {
    const ctx: DocContext = { doc };
    const value = doc.value;
    let located: LocatedResource<AppliedResource>[];
    if (!isObject(value)) {
      throw manifestError(ctx, [], 'must be a mapping: a Kubernetes object (apiVersion, kind) or a compose file (services)');
    } else if ('apiVersion' in value || 'kind' in value) {
      located = kubernetesResources(doc, value, validator);
    } else if ('services' in value) {
      located = composeResources(doc, value, validator, options.dir);
    } else {
      throw manifestError(ctx, [], 'is neither a Kubernetes object (it has no apiVersion and kind) nor a compose file (it has no services)');
    }
    for (const { resource, ctx: at, namePath, nameIsKey } of located) {
      const key = resourceKey(resource);
      const first = byKey.get(key);
      if (first) {
        throw manifestError(at, namePath, `${quote(resource.meta.name)} is also the name of ${origin(first, source.file)}: names must be unique`, {
          at: nameIsKey ? 'key' : 'value',
        });
      }
      byKey.set(key, resource);
      out.push(resource);
    }
    if (out.length > MAX_RESOURCES) {
      throw new GroveError(ErrorCode.ManifestInvalid, `${source.file}: too many resources (more than ${MAX_RESOURCES})`, { details: { file: source.file } });
    }
  }
  return out;
}

/**
 * The same check across several parsed texts (`apply -f a.yaml -f b.yaml`): parseManifests
 * can only see one. Names both places from meta.source.
 */
export function assertUniqueResources(resources: readonly AppliedResource[]): void {
  const byKey = new Map<string, AppliedResource>();
  for (const r of resources) {
    const first = byKey.get(resourceKey(r));
    if (first) {
      const s = r.meta.source;
      const place = s?.file !== undefined ? `${s.file} (document ${s.document ?? '?'}, ${describeResource(r)})` : describeResource(r);
      throw new GroveError(ErrorCode.ManifestInvalid, `${place}: ${quote(r.meta.name)} is also the name of ${origin(first, s?.file)}: names must be unique`, {
        details: { key: resourceKey(r) },
      });
    }
    byKey.set(resourceKey(r), r);
  }
}
