/**
 * Kubernetes label selectors in their text form (`?labelSelector=` of the API, `kubectl get -l`):
 * `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by commas (AND).
 * As in Kubernetes, `k!=v` and `k notin (…)` also match objects without the label; the
 * evaluator is src/core/label-selector.ts (one for every form a selector takes).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { LABEL_KEY, LABEL_VALUE } from '../../core/objects/names.js';
import { quoteValue } from '../../core/quote.js';
import type { Requirement, Selector } from '../../core/label-selector.js';

export type { Requirement, Selector } from '../../core/label-selector.js';
export { matches } from '../../core/label-selector.js';

/** Longer selectors are refused: nobody writes one this long by hand, and parsing stays cheap. */
export const MAX_SELECTOR_LENGTH = 4096;

const KEY_RE = new RegExp(LABEL_KEY);
const VALUE_RE = new RegExp(LABEL_VALUE);

function bad(text: string, why: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `invalid label selector ${quoteValue(text)}: ${why}`);
}

function key(raw: string, whole: string): string {
  const k = raw.trim();
  if (!KEY_RE.test(k) || k.length > 317) throw bad(whole, `${quoteValue(k)} is not a label key`);
  return k;
}

function value(raw: string, whole: string): string {
  const v = raw.trim();
  if (!VALUE_RE.test(v) || v.length > 63) throw bad(whole, `${quoteValue(v)} is not a label value`);
  return v;
}

/** Splits on the commas that separate requirements (not those inside a value list). */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw bad(text, 'unbalanced parentheses');
  }
  if (depth !== 0) throw bad(text, 'unbalanced parentheses');
  out.push(text.slice(start));
  return out;
}

const SET_RE = /^(.+?)\s+(in|notin)\s*\((.*)\)$/;

function requirement(term: string, whole: string): Requirement {
  const t = term.trim();
  if (t === '') throw bad(whole, 'empty requirement');
  const set = SET_RE.exec(t);
  if (set) {
    const values = set[3]!.split(',').map((v) => value(v, whole));
    return { key: key(set[1]!, whole), op: set[2] as 'in' | 'notin', values };
  }
  if (t.startsWith('!')) return { key: key(t.slice(1), whole), op: 'notexists' };
  const ne = t.indexOf('!=');
  if (ne >= 0) return { key: key(t.slice(0, ne), whole), op: 'notin', values: [value(t.slice(ne + 2), whole)] };
  const eq = t.indexOf('=');
  if (eq >= 0) {
    const rest = t.slice(eq + 1);
    return { key: key(t.slice(0, eq), whole), op: 'in', values: [value(rest.startsWith('=') ? rest.slice(1) : rest, whole)] };
  }
  return { key: key(t, whole), op: 'exists' };
}

/** Parses a selector; an empty or absent one selects everything. Throws InvalidArgument. */
export function parseSelector(text: string | null | undefined): Selector {
  if (text === null || text === undefined || text.trim() === '') return [];
  if (text.length > MAX_SELECTOR_LENGTH) throw bad(text.slice(0, 40) + '…', `longer than ${MAX_SELECTOR_LENGTH} characters`);
  return terms(text).map((t) => requirement(t, text));
}
