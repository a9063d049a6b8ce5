import { ErrorCode, GroveError } from '../../core/errors.js';
import { writeLine, type CliIO } from '../io.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (value === 'wide' || value === 'json' || value === 'yaml' || value === 'name') return value;
  throw new GroveError(ErrorCode.InvalidArgument, `-o: "${value}" is not one of wide, json, yaml, name`);
}

/**
 * Prints structured data as JSON or YAML (kubectl -o json|yaml). The YAML library loads only
 * here: every `grove` process imports this module, and the daemons would carry it (~5 MiB) for
 * nothing.
 */
export async function printData(io: CliIO, format: 'json' | 'yaml', data: unknown): Promise<void> {
  if (format === 'json') writeLine(io.stdout, JSON.stringify(data, null, 2));
  else io.stdout.write((await import('yaml')).stringify(data));
}
