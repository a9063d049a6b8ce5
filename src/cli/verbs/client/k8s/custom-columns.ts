/**
 * `-o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName` and `-o custom-columns-file=FILE`
 * (a line of headers, a line of paths) as kubectl reads and prints them: each path is kubectl's
 * relaxed JSONPath (`.a.b`, `a.b` and `{.a.b}` mean the same), one row per object, "<none>" for
 * nothing found, several values joined by commas. Pure.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { findAll, parseTemplate, type Template } from './jsonpath.js';

export interface CustomColumn {
  header: string;
  template: Template;
}

/** kubectl's RelaxedJSONPathExpression: `{.a.b}` from `.a.b`, `a.b` or `{.a.b}`. */
export function relaxedPath(path: string): string {
  const m = /^\{?(\.?[^{}]*)\}?$/.exec(path.trim());
  if (!m) throw new GroveError(ErrorCode.InvalidArgument, `unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}': ${path}`);
  const inner = m[1]!;
  return `{${inner.startsWith('.') ? inner : `.${inner}`}}`;
}

function column(header: string, path: string): CustomColumn {
  return { header, template: parseTemplate(relaxedPath(path)) };
}

/** `HEADER:PATH,…` → the columns; a part without a colon is an error, as in kubectl. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec.trim() === '') throw new GroveError(ErrorCode.InvalidArgument, 'custom-columns format specified but no custom columns given');
  return spec.split(',').map((part) => {
    const colon = part.indexOf(':');
    if (colon < 0) throw new GroveError(ErrorCode.InvalidArgument, `unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return column(part.slice(0, colon), part.slice(colon + 1));
  });
}

/** A custom-columns file: headers on the first line, paths on the second, separated by blanks. */
export function parseCustomColumnsFile(text: string): CustomColumn[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 2) throw new GroveError(ErrorCode.InvalidArgument, `custom-columns file: expected two lines (headers, then paths), found ${lines.length}`);
  const headers = lines[0]!.split(/\s+/);
  const paths = lines[1]!.split(/\s+/);
  if (headers.length !== paths.length) throw new GroveError(ErrorCode.InvalidArgument, `custom-columns file: ${headers.length} headers but ${paths.length} paths`);
  return headers.map((h, i) => column(h, paths[i]!));
}

/** A value as Go's fmt.Sprint prints it (kubectl's custom-columns cells): map[k:v], [a b]. */
export function goSprint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goSprint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goSprint(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** One object's row: each column's values joined by commas, "<none>" when there are none. */
export function customColumnsRow(columns: readonly CustomColumn[], object: unknown): string[] {
  return columns.map((c) => {
    const values = c.template.segments.flatMap((s) => (s.type === 'path' ? findAll([object], s.steps) : []));
    return values.length === 0 ? '<none>' : values.map(goSprint).join(',');
  });
}
