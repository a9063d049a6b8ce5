/**
 * Where a manifest problem is, and the one-line ManifestInvalid error that says so:
 * `deploy.yaml:14 (document 2, Deployment "web"): spec.replicas: must be an integer (got string "three")`.
 */
import { ErrorCode, GroveError, isGroveError } from '../errors.js';
import { clipText, quoteValue } from '../quote.js';

export type PathSegment = string | number;
export type FieldPath = readonly PathSegment[];

/** One YAML document of a manifest file, as the translators see it. */
export interface ManifestDocument {
  file: string;
  /** 1-based, counting empty documents too, so it matches the `---` the user counts. */
  index: number;
  value: unknown;
  /**
   * 1-based line of the field at `path` (its key with `at: 'key'`, else its value), or of the
   * nearest ancestor that exists in the source (merge keys and aliases hide some nodes).
   */
  lineOf(path: FieldPath, at?: 'key' | 'value'): number | undefined;
  /** Keys written twice in one mapping (the last value is the one read); absent when none. */
  duplicateKeys?: DuplicateKey[];
}

/** A mapping key written twice: where, and the lines of its first and its later appearance. */
export interface DuplicateKey {
  key: string;
  /** The mapping holding it (["spec", "template"]). */
  path: FieldPath;
  firstLine: number;
  line: number;
}

/** What the messages about one document (or one resource of it) need to know. */
export interface DocContext {
  doc: ManifestDocument;
  /** `Deployment "web"`, `service "web"`: absent until the kind is known. */
  label?: string;
  /** Secret documents: messages never quote values, which may be credentials. */
  sensitive?: boolean;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `spec.template.spec.containers[0].image`; keys such as `grove.io/role` are bracketed. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += out ? `.${clipText(seg)}` : clipText(seg);
    else out += `[${quoteValue(seg)}]`;
  }
  return out;
}

/** A value as messages show it: strings JSON-quoted and clipped (src/core/quote.ts). */
export { quoteValue as quote };

/** `(document 2, Deployment "web")` and the `file:line` in front of it. */
function where(ctx: DocContext, line: number | undefined): string {
  const place = line === undefined ? ctx.doc.file : `${ctx.doc.file}:${line}`;
  return `${place} (document ${ctx.doc.index}${ctx.label ? `, ${ctx.label}` : ''})`;
}

export interface ProblemOptions {
  /** Point at the key (unknown fields, missing children) rather than at the value. */
  at?: 'key' | 'value';
  /** Take the line from here instead of from `path` (a missing field has no line of its own). */
  linePath?: FieldPath;
  /** This line (a duplicate key's second appearance, which no path reaches). */
  line?: number;
  cause?: unknown;
}

export function manifestError(ctx: DocContext, path: FieldPath, message: string, options: ProblemOptions = {}): GroveError {
  const line = options.line ?? ctx.doc.lineOf(options.linePath ?? path, options.at ?? 'value');
  const field = formatPath(path);
  const text = `${where(ctx, line)}: ${field ? `${field}: ` : ''}${message}`;
  return new GroveError(ErrorCode.ManifestInvalid, text, {
    cause: options.cause,
    details: {
      file: ctx.doc.file,
      document: ctx.doc.index,
      ...(line === undefined ? {} : { line }),
      ...(field ? { path: field } : {}),
      ...(ctx.label ? { resource: ctx.label } : {}),
    },
  });
}

/**
 * Runs a core parser (parseBytes, parseCpus, parseImageRef …) for the field at `path` and turns
 * its error into a located manifest error. The parsers prefix their messages with the field
 * name they were given; that prefix is dropped because manifestError adds the path itself.
 */
export function atField<T>(ctx: DocContext, path: FieldPath, parse: (field: string) => T): T {
  const field = formatPath(path);
  try {
    return parse(field);
  } catch (err) {
    if (!isGroveError(err)) throw err;
    const message = err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
    throw manifestError(ctx, path, message, { cause: err });
  }
}
