/**
 * `grove get -o FORMAT`, as kubectl reads it: wide, json, yaml, name, jsonpath=TEMPLATE,
 * jsonpath-file=FILE, custom-columns=SPEC, custom-columns-file=FILE. The flag's unit checks the
 * format word; the template or the file is read when the verb runs (resolveOutput), so a bad
 * template is one line before anything is asked of the server.
 */
import { readFile, stat } from 'node:fs/promises';
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { option } from '../../../config/option.js';
import type { Unit } from '../../../config/units.js';
import { parseCustomColumns, parseCustomColumnsFile, type CustomColumn } from './custom-columns.js';
import { MAX_TEMPLATE_LENGTH, parseTemplate, type Template } from './jsonpath-parse.js';

const PLAIN = ['wide', 'json', 'yaml', 'name'] as const;
const WITH_ARGUMENT = ['jsonpath', 'jsonpath-file', 'custom-columns', 'custom-columns-file'] as const;

type Plain = (typeof PLAIN)[number];
type WithArgument = (typeof WITH_ARGUMENT)[number];

/** What the flag says: a plain format, or one with its template / spec / file. */
export type OutputSpec = { format: Plain } | { format: WithArgument; argument: string };

/** The output `get` prints with, its template or columns read. */
export type GetOutput = Plain | { jsonpath: Template; source: string } | { columns: CustomColumn[] };

const ALLOWED = [...WITH_ARGUMENT, ...PLAIN].sort().join(',');

export function parseOutputSpec(raw: string, where = '-o'): OutputSpec {
  const eq = raw.indexOf('=');
  const word = eq < 0 ? raw : raw.slice(0, eq);
  if ((PLAIN as readonly string[]).includes(word) && eq < 0) return { format: word as Plain };
  if ((WITH_ARGUMENT as readonly string[]).includes(word)) {
    const argument = eq < 0 ? '' : raw.slice(eq + 1);
    if (argument === '') throw new GroveError(ErrorCode.InvalidArgument, `${where}: ${word.startsWith('custom') ? 'custom-columns format specified but no custom columns given' : 'template format specified but no template given'}`);
    return { format: word as WithArgument, argument };
  }
  throw new GroveError(ErrorCode.InvalidArgument, `${where}: unable to match a printer suitable for the output format "${raw}", allowed formats are: ${ALLOWED}`);
}

const outputUnit: Unit<OutputSpec> = {
  name: 'format',
  placeholder: 'format',
  parse: (raw, where) => {
    if (typeof raw !== 'string') throw new GroveError(ErrorCode.InvalidArgument, `${where}: not an output format`);
    if (raw.length > MAX_TEMPLATE_LENGTH) throw new GroveError(ErrorCode.SizeLimit, `${where}: longer than ${MAX_TEMPLATE_LENGTH} characters`);
    return parseOutputSpec(raw, where);
  },
  format: (spec) => ('argument' in spec ? `${spec.format}=${spec.argument}` : spec.format),
};

export const GET_OUTPUT_OPTION = option({
  unit: outputUnit,
  short: '-o',
  description: 'wide | json | yaml | name | jsonpath=TEMPLATE | jsonpath-file=FILE | custom-columns=HEADER:PATH,… | custom-columns-file=FILE',
});

async function readTemplateFile(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new GroveError(ErrorCode.InvalidArgument, `error reading template ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (size > MAX_TEMPLATE_LENGTH) throw new GroveError(ErrorCode.SizeLimit, `template file ${path} is larger than ${MAX_TEMPLATE_LENGTH} bytes`);
  return readFile(path, 'utf8');
}

/** The printer's template or columns, files read and everything parsed. */
export async function resolveOutput(spec: OutputSpec | undefined): Promise<GetOutput | undefined> {
  if (spec === undefined) return undefined;
  switch (spec.format) {
    case 'jsonpath':
      return { jsonpath: parseTemplate(spec.argument), source: spec.argument };
    case 'jsonpath-file': {
      const source = await readTemplateFile(spec.argument);
      return { jsonpath: parseTemplate(source), source };
    }
    case 'custom-columns':
      return { columns: parseCustomColumns(spec.argument) };
    case 'custom-columns-file':
      return { columns: parseCustomColumnsFile(await readTemplateFile(spec.argument)) };
    default:
      return spec.format;
  }
}
