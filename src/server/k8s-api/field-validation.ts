/**
 * What every write on the Kubernetes paths reads before it touches an object: the query options
 * (dryRun, fieldValidation, fieldManager, force), the body (JSON, or YAML for server-side apply)
 * and the fields the kind does not know.
 *
 * fieldValidation, as the API server does it (kubectl sends Strict unless `--validate=false|warn`):
 * - Strict (also Grove's default when absent: nothing is silently ignored, as in every other
 *   Grove input): unknown or duplicate fields → 400 BadRequest naming each of them.
 * - Warn: they are dropped and named in `Warning: 299 - "unknown field \"spec.foo\""` headers,
 *   which kubectl prints.
 * - Ignore: they are dropped silently.
 * Fields Grove knows but refuses by name (`not supported yet`) are refused in every mode: they
 * would change behaviour, so they are never "unknown".
 */
import type { ServerResponse } from 'node:http';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { pathText, pointerToPath, type PathSegment } from '../../core/objects/explain.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';
import { validate } from '../../core/objects/validate.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Who writes (server-side apply's field manager; recorded for updates too). */
  fieldManager?: string;
  /** Server-side apply: take fields other managers own. */
  force: boolean;
}

/** Kubernetes' limit on a field manager's name. */
export const MAX_FIELD_MANAGER = 128;
/** Warning headers on one answer: a body with thousands of unknown fields is named by its first ones. */
const MAX_WARNINGS = 50;

function bad(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

/** The write options of a request's query (every value checked; an unknown dryRun is refused). */
export function writeOptions(query: URLSearchParams): WriteOptions {
  const dryRuns = query.getAll('dryRun');
  for (const d of dryRuns) if (d !== 'All') throw bad(`dryRun ${JSON.stringify(d.slice(0, 64))} is not supported: only "All"`);
  const mode = query.get('fieldValidation') ?? 'Strict';
  if (mode !== 'Strict' && mode !== 'Warn' && mode !== 'Ignore') throw bad(`fieldValidation must be Strict, Warn or Ignore, not ${JSON.stringify(mode.slice(0, 64))}`);
  const manager = query.get('fieldManager') ?? undefined;
  if (manager !== undefined && (manager.length > MAX_FIELD_MANAGER || manager === '' || /[\u0000-\u001f\u007f]/.test(manager))) {
    throw bad(`fieldManager must be 1 to ${MAX_FIELD_MANAGER} printable characters`);
  }
  const force = query.get('force');
  if (force !== null && force !== 'true' && force !== 'false') throw bad('force must be true or false');
  return { dryRun: dryRuns.length > 0, fieldValidation: mode, ...(manager !== undefined ? { fieldManager: manager } : {}), force: force === 'true' };
}

/** A decoded body and the keys it gives twice in one object (JSON.parse keeps only the last). */
export interface DecodedBody {
  value: unknown;
  duplicates: string[];
}

/**
 * Decodes a JSON body, or a YAML one when `yaml` (server-side apply bodies; kubectl sends JSON).
 * The YAML parser loads with the first YAML body: the server would keep it in memory otherwise.
 */
export async function decodeBody(bytes: Buffer, opts: { yaml?: boolean } = {}): Promise<DecodedBody> {
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw bad('the request has no body');
  try {
    const value = JSON.parse(text) as unknown;
    return { value, duplicates: duplicateKeys(text) };
  } catch (err) {
    if (!opts.yaml) throw bad(`the request body is not valid JSON: ${errorMessage(err)}`);
  }
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw bad(`the request body is not valid YAML: ${first.message.split('\n')[0]}`);
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, duplicates: [] };
}

/**
 * The keys that occur twice in one JSON object of `text` (already known to parse), as paths
 * such as `spec.replicas`: a scan of the text, since JSON.parse keeps only the last value.
 */
export function duplicateKeys(text: string): string[] {
  type Frame = { kind: 'object'; path: PathSegment[]; keys: Set<string>; key?: string } | { kind: 'array'; path: PathSegment[]; index: number };
  const stack: Frame[] = [];
  const found: string[] = [];
  let i = 0;
  const readString = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const childPath = (): PathSegment[] => {
    const top = stack.at(-1);
    if (!top) return [];
    return top.kind === 'object' ? [...top.path, top.key ?? ''] : [...top.path, top.index];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const top = stack.at(-1);
      const s = readString();
      let j = i;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (top?.kind === 'object' && text[j] === ':') {
        if (top.keys.has(s) && found.length < MAX_WARNINGS) found.push(pathText([...top.path, s]));
        top.keys.add(s);
        top.key = s;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const path = childPath();
      stack.push(c === '{' ? { kind: 'object', path, keys: new Set() } : { kind: 'array', path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
    }
    i++;
  }
  return found;
}

function removeAt(root: unknown, path: readonly PathSegment[]): void {
  let node = root as Record<string | number, unknown> | undefined;
  for (const seg of path.slice(0, -1)) node = node?.[seg] as Record<string | number, unknown> | undefined;
  if (node && typeof node === 'object') delete node[path.at(-1)!];
}

/**
 * The fields of `object` its kind does not know (paths such as `spec.foo`), found by the kind's
 * own validator (closed schemas: additionalProperties), and `object` without them. `object` is
 * not changed.
 */
export function unknownFields(kind: KindName, object: unknown): { unknown: string[]; known: unknown } {
  const copy = structuredClone(object);
  const unknown: string[] = [];
  // Each pass removes the unknown fields one validation finds; nested ones go with their parent.
  for (let pass = 0; pass < 8; pass++) {
    const result = validate(kind, copy);
    if (result.ok) break;
    const extra = result.errors.filter((e) => e.keyword === 'additionalProperties' && typeof (e.params as { additionalProperty?: unknown }).additionalProperty === 'string');
    if (extra.length === 0) break;
    for (const e of extra) {
      const path = [...pointerToPath(e.instancePath, copy), (e.params as { additionalProperty: string }).additionalProperty];
      if (unknown.length < MAX_WARNINGS) unknown.push(pathText(path));
      removeAt(copy, path);
    }
  }
  return { unknown: [...new Set(unknown)], known: copy };
}

/**
 * Applies the request's fieldValidation to a decoded `kind` object: Strict throws 400 naming the
 * unknown and duplicate fields; Warn drops them and sets Warning headers on `res`; Ignore drops
 * them. Returns the object to store.
 */
export function validateFields(kind: KindName, decoded: DecodedBody, mode: FieldValidation, res: ServerResponse | undefined): unknown {
  const { unknown, known } = unknownFields(kind, decoded.value);
  const problems = [...unknown.map((f) => `unknown field ${JSON.stringify(f)}`), ...decoded.duplicates.map((f) => `duplicate field ${JSON.stringify(f)}`)];
  if (problems.length === 0) return decoded.value;
  if (mode === 'Strict') {
    const info = KINDS[kind];
    throw new GroveError(ErrorCode.InvalidArgument, `${kind} in version ${JSON.stringify(info.version)} cannot be handled as a ${kind}: strict decoding error: ${problems.join(', ')}`, { details: { kind, reason: 'BadRequest' } });
  }
  if (mode === 'Warn' && res) addWarnings(res, problems);
  return known;
}

/** Kubernetes' warning headers (RFC 7234 299), which kubectl prints as `Warning: …`. */
export function addWarnings(res: ServerResponse, messages: readonly string[]): void {
  if (messages.length === 0) return;
  const existing = res.getHeader('warning');
  const previous = Array.isArray(existing) ? existing : existing !== undefined ? [String(existing)] : [];
  const added = messages.slice(0, MAX_WARNINGS).map((m) => `299 - ${JSON.stringify(m.replace(/[\r\n]/g, ' '))}`);
  res.setHeader('warning', [...previous, ...added]);
}
