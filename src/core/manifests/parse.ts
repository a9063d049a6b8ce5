/**
 * Multi-document YAML (JSON is YAML too) → documents that know their file, index and the line
 * of every field. Size limits come first: the text may come from stdin or anywhere.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { ErrorCode, GroveError } from '../errors.js';
import type { DuplicateKey, FieldPath, ManifestDocument } from './location.js';

export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_DOCUMENTS = 200;
/** yaml's guard against "billion laughs": at most this many alias expansions per document. */
const MAX_ALIAS_COUNT = 100;

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): GroveError {
  return new GroveError(ErrorCode.ManifestInvalid, message, { details, cause });
}

/** yaml messages end with " at line 3, column 5:" and a code excerpt; we print `file:3:` instead. */
function firstLine(message: string): string {
  // yaml turns a stack overflow on absurd nesting into a parse error with V8's wording.
  if (message.startsWith('Maximum call stack size exceeded')) return 'nested too deeply';
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').split('\n')[0]!.trim();
}

function range(node: unknown): readonly [number, number, number] | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return Array.isArray(r) ? r : undefined;
}

/** Walks the YAML node tree along `path`; see ManifestDocument.lineOf. */
function nodeOffset(doc: Document, path: FieldPath, at: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let best = range(node);
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (i === path.length - 1 && at === 'key') return range(pair.key)?.[0] ?? best?.[0];
      node = pair.value;
      best = range(node) ?? range(pair.key) ?? best;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      best = range(node) ?? best;
    } else {
      break;
    }
  }
  return best?.[0];
}

/** At most this many duplicate keys are reported per document (a generated file may have thousands). */
const MAX_DUPLICATES = 20;

/** The keys written twice in any mapping under `node`, in the order they appear. */
function duplicatesIn(node: unknown, path: FieldPath, lineAt: (offset: number) => number, out: DuplicateKey[] = []): DuplicateKey[] {
  if (out.length >= MAX_DUPLICATES) return out;
  if (isMap(node)) {
    const first = new Map<string, number>();
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const offset = range(pair.key)?.[0] ?? 0;
      // "<<" merge keys may repeat (several anchors merged); they are not fields.
      if (key !== '<<') {
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, offset);
        else if (out.length < MAX_DUPLICATES) out.push({ key, path, firstLine: lineAt(earlier), line: lineAt(offset) });
      }
      duplicatesIn(pair.value, [...path, key], lineAt, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => duplicatesIn(item, [...path, i], lineAt, out));
  }
  return out;
}

const YAML11_OCTAL = {
  identify: (v: unknown) => typeof v === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};

/**
 * Splits `text` into its non-empty documents, collecting a ManifestInvalid error (`file:line:
 * message`) per document that is not valid YAML instead of stopping at the first: the other
 * documents are still returned. A text over 1 MiB or with more than 200 documents is one
 * problem and no documents.
 */
export function readYamlDocuments(text: string, file: string): { documents: ManifestDocument[]; problems: GroveError[] } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MANIFEST_BYTES) {
    return { documents: [], problems: [invalid(`${file}: manifest is larger than 1 MiB (${bytes} bytes)`, { file, bytes })] };
  }
  const lineCounter = new LineCounter();
  // merge: compose files (and some Kubernetes ones) share blocks with `<<: *anchor`, which
  // docker compose and kubectl both resolve; YAML 1.2 alone would keep "<<" as a key.
  // YAML 1.1 octal (0644), as kubectl and docker compose read it: file modes (defaultMode: 0444)
  // would otherwise be decimal 444, a different and wider mode, without any error.
  // Duplicate keys are read (the last value wins, as kubectl reads them) and reported by the
  // caller with both lines (duplicateKeys below), instead of yaml's error naming neither.
  const docs = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: false, prettyErrors: true, customTags: (tags) => [YAML11_OCTAL, ...tags] });
  if (docs.length > MAX_DOCUMENTS) {
    return { documents: [], problems: [invalid(`${file}: too many YAML documents (${docs.length}, the limit is ${MAX_DOCUMENTS})`, { file, documents: docs.length })] };
  }
  const documents: ManifestDocument[] = [];
  const problems: GroveError[] = [];
  docs.forEach((doc, i) => {
    const index = i + 1;
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      const place = line === undefined ? file : `${file}:${line}`;
      problems.push(invalid(`${place}: ${firstLine(error.message)}`, { file, document: index, ...(line ? { line } : {}), yaml: error.code }, error));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // Alias bombs, unresolvable aliases and absurd nesting surface here, not in doc.errors.
      const line = lineCounter.linePos(range(doc.contents)?.[0] ?? 0).line;
      const why = err instanceof RangeError ? 'nested too deeply' : firstLine(err instanceof Error ? err.message : String(err));
      problems.push(invalid(`${file}:${line}: ${why}`, { file, document: index, line }, err));
      return;
    }
    if (value === null || value === undefined) return;
    const duplicateKeys = duplicatesIn(doc.contents, [], (offset) => lineCounter.linePos(offset).line);
    documents.push({
      file,
      index,
      value,
      ...(duplicateKeys.length > 0 ? { duplicateKeys } : {}),
      lineOf(path, at = 'value') {
        const offset = nodeOffset(doc, path, at);
        return offset === undefined ? undefined : lineCounter.linePos(offset).line;
      },
    });
  });
  return { documents, problems };
}
