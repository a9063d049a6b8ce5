/**
 * JSON Patch (RFC 6902), what `kubectl patch --type=json` sends: add, remove, replace, move,
 * copy and test, applied in order to a copy of the document; the first failing operation stops
 * the patch and nothing is applied (the caller stores the result only when all succeeded).
 * Pointers are RFC 6901 (`~1` is `/`, `~0` is `~`; `-` appends to an array).
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { isDeepStrictEqual } from 'node:util';

/** Operations in one patch: far more than any hand-written or kubectl-made patch. */
export const MAX_JSON_PATCH_OPS = 10_000;

type Json = unknown;
type Container = Record<string, Json> | Json[];

function bad(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The reference tokens of an RFC 6901 pointer ("" is the whole document). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw bad(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw bad(`JSON pointer ${JSON.stringify(pointer)} has an invalid escape`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function arrayIndex(token: string, length: number, forAdd: boolean, pointer: string): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw bad(`${pointer}: ${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length)) throw bad(`${pointer}: index ${i} is out of range (the array has ${length} items)`);
  return i;
}

/** The container holding the pointer's last token, and that token. */
function parentOf(doc: Json, tokens: string[], pointer: string): { parent: Container; key: string } {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false, pointer)];
    else if (isRecord(node) && Object.hasOwn(node, t)) node = node[t];
    else throw bad(`${pointer}: path not found`);
  }
  if (!Array.isArray(node) && !isRecord(node)) throw bad(`${pointer}: path not found`);
  return { parent: node, key: tokens.at(-1)! };
}

function getAt(doc: Json, pointer: string): Json {
  let node = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false, pointer)];
    else if (isRecord(node) && Object.hasOwn(node, t)) node = node[t];
    else throw bad(`${pointer}: path not found`);
  }
  return node;
}

function addAt(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, pointer), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw bad('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, false, pointer), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw bad(`${pointer}: path not found`);
  return doc;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function operation(raw: unknown, index: number): Operation {
  if (!isRecord(raw)) throw bad(`patch operation ${index} is not an object`);
  const { op, path, from } = raw;
  if (typeof op !== 'string') throw bad(`patch operation ${index} has no "op"`);
  if (typeof path !== 'string') throw bad(`patch operation ${index} (${op}) has no "path"`);
  if ((op === 'move' || op === 'copy') && typeof from !== 'string') throw bad(`patch operation ${index} (${op}) has no "from"`);
  if ((op === 'add' || op === 'replace' || op === 'test') && !Object.hasOwn(raw, 'value')) throw bad(`patch operation ${index} (${op}) has no "value"`);
  return raw as unknown as Operation;
}

/** `doc` with `patch` (an array of operations) applied; `doc` itself is not changed. */
export function applyJsonPatch(doc: Json, patch: unknown): Json {
  if (!Array.isArray(patch)) throw bad('a JSON patch must be an array of operations');
  if (patch.length > MAX_JSON_PATCH_OPS) throw bad(`a JSON patch of ${patch.length} operations: at most ${MAX_JSON_PATCH_OPS}`);
  let out: Json = structuredClone(doc);
  patch.forEach((raw, index) => {
    const o = operation(raw, index);
    switch (o.op) {
      case 'add':
        out = addAt(out, o.path, structuredClone(o.value));
        break;
      case 'remove':
        out = removeAt(out, o.path);
        break;
      case 'replace':
        getAt(out, o.path); // must exist
        out = parsePointer(o.path).length === 0 ? structuredClone(o.value) : addAt(removeAt(out, o.path), o.path, structuredClone(o.value));
        break;
      case 'move': {
        if (o.path.startsWith(`${o.from!}/`)) throw bad(`cannot move ${o.from} into its own child ${o.path}`);
        const value = getAt(out, o.from!);
        out = addAt(removeAt(out, o.from!), o.path, value);
        break;
      }
      case 'copy':
        out = addAt(out, o.path, structuredClone(getAt(out, o.from!)));
        break;
      case 'test':
        if (!isDeepStrictEqual(getAt(out, o.path), o.value)) throw bad(`test operation ${index} failed: ${o.path} is not ${JSON.stringify(o.value)}`);
        break;
      default:
        throw bad(`patch operation ${index}: unknown op ${JSON.stringify(o.op)}`);
    }
  });
  return out;
}
