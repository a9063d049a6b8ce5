/**
 * kubectl's JSONPath dialect (client-go util/jsonpath), parsed: text with `{…}` actions; an
 * action is a path (`.items[*].metadata.name`, `..image`, `['key']`, `[-1:]`, `[0,2]`,
 * `[?(@.status.phase=="Running")]`), a quoted string (`{"\n"}`), `range PATH` or `end`.
 * Written from kubectl's documentation and behaviour, not copied. Its quirks are kept on purpose
 * (a user's template must mean here what it means to kubectl): a dot inside `['a.b']` still
 * separates two fields (escape it: `a\.b`), and a missing key is an empty result, not an error.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';

/** Longest template accepted (a flag, or a -o jsonpath-file). */
export const MAX_TEMPLATE_LENGTH = 64 * 1024;

export type Step =
  | { type: 'field'; name: string }
  | { type: 'wildcard' }
  /** `..`: the value and every object or array below it. */
  | { type: 'recursive' }
  /** `[i]`, `[a:b]`, `[a:b:s]`, `[*]`; `single` for `[i]`, whose end follows from its start. */
  | { type: 'slice'; start?: number; end?: number; step?: number; single: boolean }
  | { type: 'union'; branches: Step[][] }
  | { type: 'filter'; left: Operand; op: FilterOp; right?: Operand };

export type FilterOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | '=~' | 'exists';

export type Operand = { type: 'path'; steps: Step[] } | { type: 'literal'; value: string | number | boolean };

export type Segment = { type: 'text'; text: string } | { type: 'path'; steps: Step[] } | { type: 'range'; steps: Step[]; body: Segment[] };

export interface Template {
  segments: Segment[];
}

function syntax(message: string, template: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `error parsing jsonpath ${template}: ${message}`);
}

const TERMINATORS = new Set([' ', '\t', '\r', '\n', '.', ',', '[', ']', '$', '@', '{', '}']);
const SLICE = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/;
const COMPARISON = /^([^!<>=]+)([!<>=~]+)(.+?)$/;
const OPERATORS: readonly FilterOp[] = ['==', '!=', '<', '>', '<=', '>=', '=~'];

/** Parses one template; every syntax error names the template and what is wrong. */
export function parseTemplate(text: string): Template {
  if (text.length > MAX_TEMPLATE_LENGTH) throw new GroveError(ErrorCode.SizeLimit, `jsonpath template longer than ${MAX_TEMPLATE_LENGTH} characters`);
  return { segments: new TemplateParser(text).parse() };
}

class TemplateParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Segment[] {
    const root: Segment[] = [];
    // The segments a `range` collects until its `end`; the innermost last.
    const open: Segment[][] = [root];
    while (this.pos < this.text.length) {
      const brace = this.text.indexOf('{', this.pos);
      const textEnd = brace < 0 ? this.text.length : brace;
      if (textEnd > this.pos) open.at(-1)!.push({ type: 'text', text: this.text.slice(this.pos, textEnd) });
      if (brace < 0) break;
      this.pos = brace + 1;
      this.action(open);
    }
    if (open.length > 1) throw this.error('range without end');
    return root;
  }

  private error(message: string): GroveError {
    return syntax(message, this.text);
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  private keyword(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const after = this.text[this.pos + word.length];
    if (after !== undefined && !TERMINATORS.has(after)) return false;
    this.pos += word.length;
    return true;
  }

  /** One `{…}` action, its opening brace consumed; it ends at its closing brace. */
  private action(open: Segment[][]): void {
    this.skipSpaces();
    const into = open.at(-1)!;
    const c = this.text[this.pos];
    if (c === undefined) throw this.error('unclosed action');
    if (c === '"' || c === "'") {
      into.push({ type: 'text', text: this.quoted() });
    } else if (this.keyword('end')) {
      if (open.length === 1) throw this.error('not in range, nothing to end');
      open.pop();
    } else if (this.keyword('range')) {
      const body: Segment[] = [];
      into.push({ type: 'range', steps: this.path((ch) => ch === '}'), body });
      open.push(body);
    } else {
      into.push({ type: 'path', steps: this.path((ch) => ch === '}') });
    }
    this.skipSpaces();
    if (this.text[this.pos] !== '}') throw this.error(this.pos >= this.text.length ? 'unclosed action' : `unrecognized character in action: ${JSON.stringify(this.text[this.pos])}`);
    this.pos++;
  }

  /** A quoted string with Go's escapes (\n, \t, \", \\, \xHH, \uHHHH); either quote. */
  private quoted(): string {
    const quote = this.text[this.pos]!;
    let out = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === '\n') break;
      if (c === quote) {
        this.pos = i + 1;
        return out;
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      const [decoded, length] = unescape(this.text, i + 1);
      if (decoded === undefined) throw this.error(`invalid escape in ${this.text.slice(this.pos, i + 2)}`);
      out += decoded;
      i += length;
    }
    throw this.error('unterminated quoted string');
  }

  /** Steps until `stop` says the path is over (not consumed); `@`/`$` (the current object) are skipped. */
  private path(stop: (c: string) => boolean): Step[] {
    const steps: Step[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.text[this.pos];
      if (c === undefined || stop(c)) return steps;
      if (c === '@' || c === '$') {
        this.pos++;
      } else if (this.text.startsWith('..', this.pos)) {
        if (steps.at(-1)?.type === 'recursive') throw this.error('invalid multiple recursive descent');
        this.pos += 2;
        steps.push({ type: 'recursive' });
        const next = this.text[this.pos];
        if (next !== undefined && /[\p{L}\p{N}_]/u.test(next)) steps.push(this.field());
      } else if (c === '.') {
        this.pos++;
        steps.push(this.field());
      } else if (this.text.startsWith('[?(', this.pos)) {
        steps.push(this.filter());
      } else if (c === '[') {
        steps.push(...this.bracket());
      } else {
        throw this.error(`unrecognized character in action: ${JSON.stringify(c)}`);
      }
    }
  }

  /** A field name up to the next terminator; `\` escapes one character (`kubectl\.kubernetes\.io`). */
  private field(): Step {
    let name = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '\\' && this.pos + 1 < this.text.length) {
        name += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (TERMINATORS.has(c)) break;
      name += c;
      this.pos++;
    }
    return name === '*' ? { type: 'wildcard' } : { type: 'field', name };
  }

  /** `[…]`: an index or slice, `*`, a union `[a,b]`, or a quoted key `['key']`. */
  private bracket(): Step[] {
    const close = this.text.indexOf(']', this.pos);
    const newline = this.text.indexOf('\n', this.pos);
    if (close < 0 || (newline >= 0 && newline < close)) throw this.error('unterminated array');
    let inside = this.text.slice(this.pos + 1, close);
    this.pos = close + 1;
    if (inside === '*') inside = ':';
    const parts = inside.split(',');
    if (parts.length > 1) return [{ type: 'union', branches: parts.map((p) => subPath(`[${p.trim()}]`, this.text)) }];
    const key = /^'([^']*)'$/.exec(inside);
    // As kubectl: the key is read as `.key`, so its dots separate fields unless escaped.
    if (key) return subPath(`.${key[1]}`, this.text);
    const m = SLICE.exec(inside);
    if (!m) throw this.error(`invalid array index ${inside}`);
    const number = (s: string | undefined): number | undefined => {
      const digits = s?.replace(/^:/, '');
      if (digits === undefined || digits === '' || digits === '-') return undefined;
      return Number(digits);
    };
    if (m[1] === '' && m[2] === undefined) throw this.error(`invalid array index ${inside}`);
    const start = number(m[1]);
    const end = number(m[2]);
    const step = number(m[3]);
    return [{ type: 'slice', ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}), ...(step !== undefined ? { step } : {}), single: m[2] === undefined }];
  }

  /** `[?(LEFT OP RIGHT)]` or `[?(PATH)]` (the element has it). */
  private filter(): Step {
    const begin = this.pos + 3;
    let quote: string | undefined;
    let i = begin;
    for (; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === '\n') break;
      if (quote !== undefined) {
        if (c === quote && this.text[i - 1] !== '\\') quote = undefined;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === ')' && this.text[i + 1] === ']') {
        break;
      }
    }
    if (i >= this.text.length || this.text[i] !== ')') throw this.error('unterminated filter');
    const expression = this.text.slice(begin, i);
    this.pos = i + 2;
    const m = COMPARISON.exec(expression);
    if (!m) return { type: 'filter', left: operand(expression, this.text), op: 'exists' };
    const op = m[2] as FilterOp;
    if (!OPERATORS.includes(op)) throw this.error(`unrecognized filter operator ${m[2]}`);
    return { type: 'filter', left: operand(m[1]!, this.text), op, right: operand(m[3]!, this.text) };
  }
}

/** A path written inside another (a union's branch, a quoted key). */
function subPath(text: string, template: string): Step[] {
  const parser = new TemplateParser(`{${text}}`);
  const [segment] = parser.parse();
  if (segment?.type !== 'path') throw syntax(`invalid path ${text}`, template);
  return segment.steps;
}

/** A filter's side: a quoted string, a number, true/false, or a path (`@.status.phase`). */
function operand(text: string, template: string): Operand {
  const t = text.trim();
  if (/^(["']).*\1$/s.test(t)) {
    const [segment] = new TemplateParser(`{${t}}`).parse();
    return { type: 'literal', value: segment?.type === 'text' ? segment.text : '' };
  }
  if (/^[+-]?\d+(\.\d+)?$/.test(t)) return { type: 'literal', value: Number(t) };
  if (t === 'true' || t === 'false') return { type: 'literal', value: t === 'true' };
  return { type: 'path', steps: subPath(t, template) };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };

/** The character an escape at `at` (after the backslash) stands for, and how many characters it took. */
function unescape(text: string, at: number): [string | undefined, number] {
  const c = text[at];
  if (c === undefined) return [undefined, 0];
  if (SIMPLE_ESCAPES[c] !== undefined) return [SIMPLE_ESCAPES[c], 1];
  const hex = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  const digits = text.slice(at + 1, at + 1 + hex);
  if (hex === 0 || !/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) return [undefined, 0];
  return [String.fromCodePoint(parseInt(digits, 16)), 1 + hex];
}
