/**
 * Option tables as commander flags: the flags, their help (with the default and the variable),
 * and which flags the command line actually gave (commander's own defaults are never used: a
 * value that did not come from the command line comes from the variable, the file or the table).
 */
import { Option, type Command } from 'commander';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { flagName, flagText, type OptionSpec, type OptionTable } from './option.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** "(default 10s; $GROVE_RESTART_BACKOFF)" after the description. */
function helpSuffix(spec: OptionSpec<unknown>): string {
  const parts: string[] = [];
  const shown = spec.defaultText ?? (spec.default !== undefined && typeof spec.default !== 'function' && !spec.unit.switch && !spec.unit.list ? spec.unit.format(spec.default) : undefined);
  if (shown !== undefined) parts.push(`default ${shown}`);
  if (spec.env) parts.push(`$${spec.env}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function commanderOption(key: string, spec: OptionSpec<unknown>): Option {
  const value = spec.unit.switch ? '' : ` <${spec.placeholder ?? spec.unit.placeholder}>`;
  const option = new Option(`${spec.short ? `${spec.short}, ` : ''}${flagText(key, spec)}${value}`, spec.description + helpSuffix(spec));
  if (spec.unit.list) option.argParser(collect);
  return option;
}

/** Adds a table's flags to a command. */
export function addOptions(command: Command, table: OptionTable): void {
  for (const [key, spec] of Object.entries(table)) {
    const option = commanderOption(key, spec);
    // The table's key is how values are looked up: a flag must map back to it.
    if (option.attributeName() !== key) throw new GroveError(ErrorCode.Internal, `option ${key}: flag --${flagName(key, spec)} would be read as ${option.attributeName()}`);
    command.addOption(option);
  }
}

/** The raw values of the table's flags that the command line gave. */
export function givenFlags(command: Command, table: OptionTable): Map<string, unknown> {
  const given = new Map<string, unknown>();
  for (const key of Object.keys(table)) {
    if (command.getOptionValueSource(key) === 'cli') given.set(key, command.getOptionValue(key));
  }
  return given;
}
