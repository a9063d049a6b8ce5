import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../core/errors.js';
import { resolveCommand, type CommandTables } from './config/command-config.js';
import type { Environment } from './config/environment.js';
import type { OptionTable, Values } from './config/option.js';
import { contextFor, type CliContext } from './context.js';
import type { CliIO } from './io.js';

/**
 * A verb's body: its context, its positional arguments as commander gives them (read them with
 * argText / argOptional / argList) and its own options, typed by its table.
 */
export type VerbBody<T extends OptionTable> = (ctx: CliContext, args: readonly unknown[], options: Values<T>) => Promise<number | void>;

/**
 * Declares a command's options (its flags come from `table`) and its body. When it runs, the
 * configuration of the whole command (program, role, verb) is resolved once, and the exit code
 * the body returns (e.g. a foreground container's own) is recorded.
 */
export interface Act {
  <T extends OptionTable>(command: Command, table: T, body: VerbBody<T>): Command;
  /** Options of a command that only groups others (`grove ctr --runtime crun ps`): its verbs read them with ctx.options(table). */
  options(command: Command, table: OptionTable): Command;
}

export interface ExitState {
  code: number;
}

export function makeAct(io: CliIO, env: Environment, exit: ExitState, tables: CommandTables): Act {
  const act = <T extends OptionTable>(command: Command, table: T, body: VerbBody<T>): Command => {
    tables.declare(command, table);
    return command.action(async (...commanderArgs: unknown[]) => {
      // commander calls an action with (…positional, options, command).
      const positional = commanderArgs.slice(0, -2);
      const config = await resolveCommand(command, tables, env);
      const code = await body(await contextFor(io, env, config), positional, config.get(table));
      if (typeof code === 'number') exit.code = code;
    });
  };
  return Object.assign(act, {
    options: (command: Command, table: OptionTable): Command => {
      tables.declare(command, table);
      return command;
    },
  });
}

/** A table for verbs without options of their own. */
export const NO_OPTIONS = {} satisfies OptionTable;

function notText(name: string): GroveError {
  return new GroveError(ErrorCode.Internal, `argument ${name}: commander gave no text`);
}

/** A required positional argument. */
export function argText(value: unknown, name = 'argument'): string {
  if (typeof value !== 'string') throw notText(name);
  return value;
}

/** An optional positional argument. */
export function argOptional(value: unknown, name = 'argument'): string | undefined {
  return value === undefined ? undefined : argText(value, name);
}

/** A variadic positional argument (`<names...>`). */
export function argList(value: unknown, name = 'arguments'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw notText(name);
  return value;
}
