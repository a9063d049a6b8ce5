/**
 * The formats of `get -o` that do not depend on the kind, shared by `get`, `get events` and
 * `get -w`: json, yaml and jsonpath print the data (one object as itself, several as a v1 List,
 * kubectl's rule); name and custom-columns print a line per object. A table is the kind's own
 * (tables.ts, events.ts).
 */
import type { AnyObject } from '../../../../core/objects/changes.js';
import { printObjects } from '../../../client/output.js';
import { table } from '../../../format.js';
import { writeLine, type CliIO } from '../../../io.js';
import { customColumnsRow } from './custom-columns.js';
import type { GetOutput } from './get-output.js';
import { executeTemplate } from './jsonpath.js';

/** What kubectl hands a template for several objects: a v1 List of them, as the server sent them. */
export function listOf(objects: readonly AnyObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objects };
}

/** json, yaml and jsonpath: the data itself. */
export function isDataOutput(output: GetOutput | undefined): boolean {
  return output === 'json' || output === 'yaml' || (typeof output === 'object' && 'jsonpath' in output);
}

/** Prints `objects` as json, yaml or through a jsonpath template; `one`: a single object asked for by name. */
export async function printData(io: CliIO, output: GetOutput, objects: readonly AnyObject[], one: boolean): Promise<void> {
  if (output === 'json' || output === 'yaml') return printObjects(io, output, objects as unknown as Record<string, unknown>[], one);
  if (typeof output === 'object' && 'jsonpath' in output) {
    io.stdout.write(executeTemplate(output.jsonpath, one && objects.length === 1 ? objects[0] : listOf(objects), output.source));
  }
}

/** name and custom-columns: a line per object; false for the other formats. */
export function printLines(io: CliIO, output: GetOutput | undefined, objects: readonly AnyObject[], nameOf: (o: AnyObject) => string): boolean {
  if (output === 'name') {
    for (const o of objects) writeLine(io.stdout, nameOf(o));
    return true;
  }
  if (typeof output === 'object' && 'columns' in output) {
    writeLine(io.stdout, table(output.columns.map((c) => c.header), objects.map((o) => customColumnsRow(output.columns, o))));
    return true;
  }
  return false;
}
