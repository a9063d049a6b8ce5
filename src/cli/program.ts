import { Command, CommanderError } from 'commander';
import { CommandTables } from './config/command-config.js';
import { processEnvironment, type Environment } from './config/environment.js';
import { GLOBAL_OPTIONS } from './config/role-options.js';
import { processIO, type CliIO } from './io.js';
import { reportError } from './report.js';
import { packageVersion } from './package-root.js';
import { makeAct, type ExitState } from './verb.js';
import { registerAgent } from './roles/agent.js';
import { registerServer } from './roles/server.js';
import { registerCheck } from './verbs/check.js';
import { registerClientVerbs } from './verbs/client/index.js';
import { registerCtr } from './verbs/ctr/index.js';

/** Builds the `grove` command table: roles, client verbs and `ctr`, their flags from the option tables. */
export function buildProgram(io: CliIO, env: Environment, exit: ExitState): Command {
  const program = new Command('grove')
    .description('Grove: a lightweight container orchestrator for edge devices')
    .version(packageVersion(), '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .helpCommand('help [verb]', 'show help for a verb')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`grove: ${s.replace(/^error: /, '')}`),
    });
  const tables = new CommandTables();
  tables.declare(program, GLOBAL_OPTIONS);
  const act = makeAct(io, env, exit, tables);
  registerServer(program, act);
  registerAgent(program, act);
  registerClientVerbs(program, act);
  registerCtr(program, act);
  registerCheck(program, act);
  return program;
}

function hasDebugFlag(argv: string[]): boolean {
  return argv.includes('--debug');
}

/** Runs the CLI; resolves with the process exit code. Never calls process.exit itself. */
export async function main(argv: string[], io: CliIO = processIO(), env: Environment = processEnvironment()): Promise<number> {
  const exit: ExitState = { code: 0 };
  const program = buildProgram(io, env, exit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one line (or the help/version text).
      return err.exitCode;
    }
    reportError(err, io, hasDebugFlag(argv));
    return exit.code !== 0 ? exit.code : 1;
  }
}
