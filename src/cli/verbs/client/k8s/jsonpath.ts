/**
 * kubectl's JSONPath, evaluated (`get -o jsonpath=…`, custom-columns): what each path finds in a
 * JSON value and how kubectl prints it — strings as they are, objects and arrays as compact JSON
 * with sorted keys, several results of one action separated by a space, a missing key as
 * nothing. The template grammar is jsonpath-parse.ts's. Pure.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { parseTemplate, type Operand, type Segment, type Step, type Template } from './jsonpath-parse.js';

export { parseTemplate, type Template } from './jsonpath-parse.js';

type Json = unknown;

function evaluation(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every value `steps` lead to from each of `input`, in order. */
export function findAll(input: readonly Json[], steps: readonly Step[]): Json[] {
  let current: Json[] = [...input];
  for (const step of steps) current = apply(current, step);
  return current;
}

function apply(input: Json[], step: Step): Json[] {
  switch (step.type) {
    case 'field':
      return input.flatMap((v) => (isObject(v) && Object.hasOwn(v, step.name) ? [v[step.name]] : []));
    case 'wildcard':
      return input.flatMap((v) => (Array.isArray(v) ? v : isObject(v) ? Object.values(v) : []));
    case 'recursive':
      return input.flatMap(descend);
    case 'slice':
      return input.flatMap((v) => slice(v, step));
    case 'union':
      return step.branches.flatMap((branch) => findAll(input, branch));
    case 'filter':
      return input.flatMap((v) => filter(v, step));
  }
}

/** `..`: the value itself and every object or array inside it (depth first), as kubectl walks them. */
function descend(v: Json): Json[] {
  const children = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  if (children.length === 0) return [];
  return [v, ...children.flatMap(descend)];
}

function slice(v: Json, step: Extract<Step, { type: 'slice' }>): Json[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw evaluation(`${typeName(v)} is not array or slice`);
  const length = v.length;
  let start = step.start ?? 0;
  if (start < 0) start += length;
  let end = step.single ? start + 1 : (step.end ?? length);
  if (!step.single && end < 0) end += length;
  if (end === start) return [];
  if (start < 0 || start >= length) throw evaluation(`array index out of bounds: index ${start}, length ${length}`);
  if (end < 0 || end > length) throw evaluation(`array index out of bounds: index ${end - 1}, length ${length}`);
  if (start > end) throw evaluation(`starting index ${start} is greater than ending index ${end}`);
  const by = step.step ?? 1;
  if (by <= 0) throw evaluation('step must be > 0');
  const out: Json[] = [];
  for (let i = start; i < end; i += by) out.push(v[i]);
  return out;
}

function operandValues(element: Json, operand: Operand): Json[] {
  return operand.type === 'literal' ? [operand.value] : findAll([element], operand.steps);
}

function filter(v: Json, step: Extract<Step, { type: 'filter' }>): Json[] {
  if (!Array.isArray(v)) throw evaluation(`${typeName(v)} is not array or slice and cannot be filtered`);
  return v.filter((element) => {
    const lefts = operandValues(element, step.left);
    if (step.op === 'exists') return lefts.length > 0;
    const rights = operandValues(element, step.right!);
    if (lefts.length === 0 || rights.length === 0) return false;
    if (lefts.length > 1 || rights.length > 1) throw evaluation('can only compare one element at a time');
    return compare(lefts[0], step.op, rights[0]);
  });
}

function compare(left: Json, op: string, right: Json): boolean {
  if (op === '=~') {
    if (typeof left !== 'string' || typeof right !== 'string') throw evaluation('regexp search only supports strings');
    return new RegExp(right).test(left);
  }
  if (op === '==' || op === '!=') return (typeof left === typeof right && left === right) === (op === '==');
  if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) throw evaluation(`incompatible types for comparison: ${typeName(left)} ${op} ${typeName(right)}`);
  const [a, b] = [left as number | string, right as number | string];
  return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
}

function typeName(v: Json): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : typeof v === 'boolean' ? 'bool' : 'string';
}

/** JSON as Go's encoding/json writes it: compact, object keys sorted, <, > and & escaped. */
export function goJson(v: Json): string {
  const sorted = (x: Json): Json => (Array.isArray(x) ? x.map(sorted) : isObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])])) : x);
  return (JSON.stringify(sorted(v)) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** One result as `-o jsonpath` prints it: text as it is, objects and arrays as JSON. */
function resultText(v: Json): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return goJson(v);
  return String(v);
}

function run(segments: readonly Segment[], root: Json, out: string[]): void {
  for (const segment of segments) {
    if (segment.type === 'text') out.push(segment.text);
    else if (segment.type === 'path') out.push(findAll([root], segment.steps).map(resultText).join(' '));
    else for (const item of findAll([root], segment.steps)) run(segment.body, item, out);
  }
}

/** `template` applied to `data`, as `kubectl get -o jsonpath` prints it (no newline added). */
export function executeTemplate(template: Template, data: Json, source = ''): string {
  const out: string[] = [];
  try {
    run(template.segments, data, out);
  } catch (err) {
    if (err instanceof GroveError) throw new GroveError(err.code, `error executing jsonpath ${JSON.stringify(source)}: ${err.message}`, { cause: err });
    throw err;
  }
  return out.join('');
}

/** Parses and runs a template in one go (tests, one-off uses). */
export function jsonPath(source: string, data: Json): string {
  return executeTemplate(parseTemplate(source), data, source);
}
