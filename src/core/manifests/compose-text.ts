/**
 * The text rules of docker compose that change what a container gets: `$` interpolation,
 * splitting a string `command:` into words, and Go durations. Each throws a plain Error with the
 * reason; the caller adds where it happened.
 */
import { quoteValue } from '../quote.js';

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
/** `${A:-${B:-…}}` nesting: deeper is no real file, and unbounded recursion would overflow the stack. */
const MAX_NESTING = 16;

export class ComposeTextError extends Error {}

/**
 * Where interpolation takes its values: the applying shell's environment over the project's
 * `.env` (compose-env.ts builds it). `get` answers undefined for an unset variable.
 */
export interface Variables {
  get(name: string): string | undefined;
  /** Told each time an unset variable is used without a default (the caller warns once per name). */
  unset?(name: string): void;
}

/** No variables at all: every `${X}` is unset (and empty), as compose with an empty environment. */
export const NO_VARIABLES: Variables = { get: () => undefined };

/**
 * Compose interpolation, every form the compose specification has: `$$` is a literal `$`;
 * `${X}` / `$X` the value (unset: empty, and `vars.unset` is told, as compose warns);
 * `${X:-d}` d when X is unset or empty, `${X-d}` when unset; `${X:+a}` a when X is set and not
 * empty, `${X+a}` when set; `${X:?msg}` / `${X?msg}` an error when X is unset or empty / unset.
 */
export function interpolate(text: string, vars: Variables = NO_VARIABLES): string {
  const [out, end] = interpolateUntil(text, 0, 0, vars);
  if (end !== text.length) throw new ComposeTextError(`unexpected "}" at character ${end + 1}`);
  return out;
}

/** Interpolates from `start` up to the end, or (depth > 0) up to the `}` closing a `${…}`. */
function interpolateUntil(text: string, start: number, depth: number, vars: Variables): [string, number] {
  if (depth > MAX_NESTING) throw new ComposeTextError(`"\${…}" is nested more than ${MAX_NESTING} deep`);
  const nested = depth > 0;
  let out = '';
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (nested && c === '}') return [out, i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const [value, end] = braced(text, i + 2, depth, vars);
      out += value;
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) throw new ComposeTextError('a lone "$" must be written "$$" (compose interpolation)');
    out += valueOf(name, vars);
    i += 1 + name.length;
  }
  if (nested) throw new ComposeTextError('"${" is not closed by "}"');
  return [out, i];
}

function valueOf(name: string, vars: Variables): string {
  const value = vars.get(name);
  if (value === undefined) vars.unset?.(name);
  return value ?? '';
}

/** `${NAME…}` starting after the brace; returns the value and the index of the closing brace. */
function braced(text: string, start: number, depth: number, vars: Variables): [string, number] {
  const name = NAME.exec(text.slice(start))?.[0];
  if (!name) throw new ComposeTextError('"${" must be followed by a variable name');
  let i = start + name.length;
  if (text[i] === '}') return [valueOf(name, vars), i];
  const op = text[i] === ':' ? text.slice(i, i + 2) : text.slice(i, i + 1);
  if (![':-', '-', ':+', '+', ':?', '?'].includes(op)) throw new ComposeTextError(`"\${${name}" is not followed by "}" or one of :- - :+ + :? ?`);
  i += op.length;
  // The word is read (and checked) whether or not it is used; its unset variables count only when it is used.
  const pending: string[] = [];
  const [word, end] = interpolateUntil(text, i, depth + 1, { get: (n) => vars.get(n), unset: (n) => pending.push(n) });
  const used = () => {
    for (const n of pending) vars.unset?.(n);
  };
  const value = vars.get(name);
  // With ':' an empty value counts as unset.
  const set = op.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
  if (op.endsWith('-')) {
    if (set) return [value!, end];
    used();
    return [word, end];
  }
  if (op.endsWith('+')) {
    if (!set) return ['', end];
    used();
    return [word, end];
  }
  if (set) return [value!, end];
  throw new ComposeTextError(`variable ${name} is required${word ? `: ${word}` : ''}${value === '' ? ' (it is empty)' : ' (it is not set)'}`);
}

const OPERATORS = new Set([';', '&', '|', '<', '>']);

/**
 * Splits a compose string command into words the way compose does (go-shellwords): blanks
 * separate words, quotes group them, backslash escapes. No shell runs it, so unquoted shell
 * operators (`&&`, `|`, `>` …) are refused instead of being passed to the program as words.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') {
      if (i + 1 >= text.length) throw new ComposeTextError('ends with a lone backslash');
      word += text[++i];
    } else if (OPERATORS.has(c)) {
      throw new ComposeTextError(`"${c}" is a shell operator, but no shell runs this command: use ["sh", "-c", "…"]`);
    } else word += c;
  }
  if (quote) throw new ComposeTextError(`has an unclosed ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(word);
  return words;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("10s", "1m30s", "500ms") as whole seconds, rounded up. */
export function parseGoDurationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!text || parts.map((p) => p[0]).join('') !== text) throw new ComposeTextError(`${quoteValue(text)} is not a duration (use e.g. 10s, 1m30s)`);
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
  return Math.ceil(Number(seconds.toPrecision(12)));
}
