/**
 * Manifest files → the Kubernetes objects one apply sends, with EVERY problem of every file
 * (YAML, schema, rules, duplicates), each one located line. Pure: the CLI reads the files and
 * passes their text in. Kubernetes documents and compose files may be mixed, one per YAML
 * document; empty documents are skipped.
 */
import type { AnyObject } from '../objects/changes.js';
import { composeObjects } from './compose-objects.js';
import type { ComposeNamespace } from './compose-network.js';
import type { ComposeHost } from './compose-prepare.js';
import { kubernetesObjects, type DocumentObjects, type LocatedObject } from './kubernetes-objects.js';
import { manifestError, quote, type DocContext } from './location.js';
import { readYamlDocuments } from './parse.js';
import { problemOf, sortProblems, type ManifestProblem } from './problems.js';

export type { ManifestProblem };

/** At most this many objects from one apply (a List or a compose file holds several). */
export const MAX_OBJECTS = 200;

export interface ManifestFile {
  /** As the user named it (messages say it): "deploy.yaml", "<stdin>". */
  path: string;
  text: string;
  /** The file's directory, absolute: compose "./relative" binds resolve against it; absent for stdin. */
  dir?: string;
}

/** Where an object was written: the file as the user named it, and its document (1-based). */
export interface ObjectSource {
  file: string;
  document: number;
}

export interface ManifestObjects {
  /** Valid objects, as written (defaults and namespace are the server's). Empty when there are problems. */
  objects: AnyObject[];
  /** objects[i] came from sources[i]: what the client names when the server refuses one. */
  sources: ObjectSource[];
  problems: ManifestProblem[];
  /** Lines to show that stop nothing (compose: each unset variable, once per file). */
  warnings: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The workloads share one name space per namespace, as 0.1's apps did: start order
 * (grove.io/depends-on), update locks and /etc/hosts name pods by their workload without its kind.
 */
const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'Job', 'CronJob']);

function identity(o: AnyObject): string {
  const kind = WORKLOADS.has(o.kind) ? 'workload' : o.kind;
  const ns = (o.metadata as { namespace?: string }).namespace ?? 'default';
  return `${kind}\u0000${o.kind === 'Namespace' ? '' : ns}\u0000${o.metadata.name}`;
}

function origin(first: LocatedObject, file: string): string {
  const d = first.ctx.doc;
  return `${first.ctx.label ?? first.object.kind} in ${d.file !== file ? `${d.file} (document ${d.index})` : `document ${d.index}`}`;
}

function duplicates(located: readonly LocatedObject[]): ManifestProblem[] {
  const first = new Map<string, LocatedObject>();
  const out: ManifestProblem[] = [];
  for (const l of located) {
    const key = identity(l.object);
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, l);
      continue;
    }
    const message = `${quote(l.object.metadata.name)} is also the name of ${origin(earlier, l.ctx.doc.file)}: names must be unique`;
    out.push(problemOf(manifestError(l.ctx, l.namePath, message, { at: l.nameIsKey ? 'key' : 'value' })));
  }
  return out;
}

export interface ManifestOptions {
  /**
   * `-n`: compose projects go to this namespace instead of one named after the project (none is
   * created); a function chooses per project (undefined: the project's own).
   */
  composeNamespace?: ComposeNamespace;
  /** The applying machine for compose files: its environment, --env-file, --profile, and the files compose reads (.env, env_file, secrets). */
  compose?: ComposeHost;
}

/**
 * Keys written twice: docker compose refuses them (a problem, in its words), kubectl reads the
 * last value (a warning). Both name the key and its two lines.
 */
function withDuplicateKeys(found: DocumentObjects, doc: Parameters<typeof kubernetesObjects>[0], compose: boolean): DocumentObjects {
  if (!doc.duplicateKeys) return found;
  const ctx: DocContext = { doc };
  const texts = doc.duplicateKeys.map((d) => ({
    d,
    error: manifestError(ctx, [...d.path, d.key], compose ? `mapping key ${quote(d.key)} already defined at line ${d.firstLine}` : `duplicate key ${quote(d.key)} (first at line ${d.firstLine}): the last value is used`, { line: d.line }),
  }));
  if (compose) return { ...found, problems: [...found.problems, ...texts.map((t) => problemOf(t.error))] };
  return { ...found, warnings: [...(found.warnings ?? []), ...texts.map((t) => t.error.message)] };
}

function documentObjects(doc: Parameters<typeof kubernetesObjects>[0], dir: string | undefined, options: ManifestOptions): DocumentObjects {
  const value = doc.value;
  const compose = isObject(value) && !('apiVersion' in value || 'kind' in value) && 'services' in value;
  return withDuplicateKeys(objectsOf(doc, dir, options), doc, compose);
}

function objectsOf(doc: Parameters<typeof kubernetesObjects>[0], dir: string | undefined, options: ManifestOptions): DocumentObjects {
  const value = doc.value;
  const ctx: DocContext = { doc };
  const fail = (message: string): DocumentObjects => ({ objects: [], problems: [problemOf(manifestError(ctx, [], message))] });
  if (!isObject(value)) return fail('must be a mapping: a Kubernetes object (apiVersion, kind) or a compose file (services)');
  if ('apiVersion' in value || 'kind' in value) return kubernetesObjects(doc, value);
  if ('services' in value) return composeObjects(doc, value, dir, options.composeNamespace, options.compose);
  return fail('is neither a Kubernetes object (it has no apiVersion and kind) nor a compose file (it has no services)');
}

/** The objects of `files` and every problem in them; objects only when there is no problem. */
export function manifestsToObjects(files: readonly ManifestFile[], options: ManifestOptions = {}): ManifestObjects {
  const located: LocatedObject[] = [];
  const problems: ManifestProblem[] = [];
  const warnings: string[] = [];
  const ignored = new Set<string>();
  const dumps = new Set<string>();
  for (const file of files) {
    const { documents, problems: yaml } = readYamlDocuments(file.text, file.path);
    problems.push(...yaml.map(problemOf));
    for (const doc of documents) {
      const found = documentObjects(doc, file.dir, options);
      located.push(...found.objects);
      problems.push(...found.problems);
      for (const w of found.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
      for (const f of found.ignored ?? []) ignored.add(f);
      if (found.ignored?.length) dumps.add(file.path);
    }
  }
  // One line for every dump in the apply, as kubectl users expect `get -o yaml` output to apply.
  if (ignored.size > 0) warnings.push(`${[...dumps].join(', ')}: fields set by the server are ignored: ${[...ignored].join(', ')}`);
  problems.push(...duplicates(located));
  if (located.length > MAX_OBJECTS) {
    problems.push({ text: `${files.map((f) => f.path).join(', ')}: too many objects (${located.length}, the limit is ${MAX_OBJECTS} per apply)`, file: files[0]?.path ?? '' });
  }
  if (problems.length > 0) return { objects: [], sources: [], problems: sortProblems(problems, files.map((f) => f.path)), warnings };
  return { objects: located.map((l) => l.object), sources: located.map((l) => ({ file: l.ctx.doc.file, document: l.ctx.doc.index })), problems: [], warnings };
}
