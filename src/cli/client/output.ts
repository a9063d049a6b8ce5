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
