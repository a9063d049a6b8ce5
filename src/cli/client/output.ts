import { option } from '../config/option.js';
import { oneOf } from '../config/units.js';
import { writeLine, type CliIO } from '../io.js';

/** `-o` of the listing verbs: a table unless asked otherwise (kubectl's formats). */
export const OUTPUT_OPTION = option({ unit: oneOf(['wide', 'json', 'yaml', 'name'] as const, 'format'), short: '-o', description: 'wide | json | yaml | name' });

/** `-o` of verbs that print a table or the data itself. */
export const DATA_OUTPUT_OPTION = option({ unit: oneOf(['json', 'yaml'] as const, 'format'), short: '-o', description: 'json or yaml' });

/**
 * Prints structured data as JSON or YAML (kubectl -o json|yaml). The YAML library loads only
 * here: every `grove` process imports this module, and the daemons would carry it (~5 MiB) for
 * nothing.
 */
export async function printData(io: CliIO, format: 'json' | 'yaml', data: unknown): Promise<void> {
  if (format === 'json') writeLine(io.stdout, JSON.stringify(data, null, 2));
  else io.stdout.write((await import('yaml')).stringify(data));
}

/**
 * Prints objects as `get -o json|yaml` does: one object as itself, several as a v1 List, in
 * Kubernetes' field order with nothing empty (object-yaml.ts), so the output applies back.
 */
export async function printObjects(io: CliIO, format: 'json' | 'yaml', objects: readonly Readonly<Record<string, unknown>>[], one: boolean): Promise<void> {
  const { objectList, objectToYaml, printableObject } = await import('./object-yaml.js');
  if (one && objects.length === 1) {
    if (format === 'json') writeLine(io.stdout, JSON.stringify(printableObject(objects[0]!), null, 2));
    else io.stdout.write(objectToYaml(objects[0]!));
    return;
  }
  const list = objectList(objects);
  if (format === 'json') writeLine(io.stdout, JSON.stringify(list, null, 2));
  else io.stdout.write((await import('yaml')).stringify(list, { lineWidth: 0 }));
}
