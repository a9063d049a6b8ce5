import type { Command } from 'commander';
import { contextFor, type CliContext } from './context.js';
import type { CliIO } from './io.js';

/**
 * Wraps a verb's body as a commander action: builds the context from the global flags and
 * records the exit code the verb returns (e.g. a foreground container's own exit code).
 */
export type VerbBody = (ctx: CliContext, args: unknown[], options: Record<string, unknown>) => Promise<number | void>;
export type Act = (body: VerbBody) => (...commanderArgs: unknown[]) => Promise<void>;

export interface ExitState {
  code: number;
}

export function makeAct(io: CliIO, exit: ExitState): Act {
  return (body) =>
    async (...commanderArgs) => {
      const command = commanderArgs[commanderArgs.length - 1] as Command;
      const options = command.optsWithGlobals<Record<string, unknown>>();
      const positional = commanderArgs.slice(0, -2);
      const code = await body(await contextFor(command, io), positional, options);
      if (typeof code === 'number') exit.code = code;
    };
}

/** Commander collector for repeatable options (-e A=1 -e B=2). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
