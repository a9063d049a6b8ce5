import { Command, CommanderError } from 'commander';
import { CommandTables } from './config/command-config.js';
import { processEnvironment, type Environment } from './config/environment.js';
import { GLOBAL_OPTIONS } from './config/role-options.js';
import { processIO, type CliIO } from './io.js';
import { reportError } from './report.js';
import { packageVersion } from './package-root.js';
import { flagName } from './config/option.js';
import { makeAct, type Act, type ExitState } from './verb.js';

type Register = (program: Command, act: Act) => void;

/**
 * The parts of the command table, in registration order (completion, registered with the client
 * verbs, describes what is registered before it and reads the table when it runs). Loaded on
 * demand: the client verbs' modules (manifest reading, object validators, output formats) are
 * most of the CLI, and a daemon that loaded them would keep them for its whole life.
 */
const PARTS: readonly (readonly [string | undefined, () => Promise<Register>])[] = [
  ['server', async () => (await import('./roles/server.js')).registerServer],
  ['agent', async () => (await import('./roles/agent.js')).registerAgent],
  [undefined, async () => (await import('./verbs/client/index.js')).registerClientVerbs],
  ['ctr', async () => (await import('./verbs/ctr/index.js')).registerCtr],
  ['check', async () => (await import('./verbs/check.js')).registerCheck],
];

/**
 * The verb `argv` runs when it is one whose part registers alone (a role, ctr, check): the first
 * word after the global flags. Undefined for anything else (client verbs, help, an unknown or
 * misspelt flag), which gets the whole table, so that help and suggestions see every verb.
 */
export function ownPartVerb(argv: readonly string[]): string | undefined {
  const globals = new Map(Object.entries(GLOBAL_OPTIONS).map(([key, spec]) => [`--${flagName(key, spec)}`, spec.unit.switch === true]));
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) return PARTS.some(([verb]) => verb === word) ? word : undefined;
    const [flag, inline] = word.split('=', 2);
    const isSwitch = globals.get(flag!);
    if (isSwitch === undefined) return undefined;
    if (!isSwitch && inline === undefined) i++;
  }
  return undefined;
}

/**
 * Builds the `grove` command table: roles, client verbs and `ctr`, their flags from the option
 * tables; with `only` (see ownPartVerb), that verb's part alone.
 */
export async function buildProgram(io: CliIO, env: Environment, exit: ExitState, only?: string): Promise<Command> {
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
  const parts = PARTS.filter(([verb]) => only === undefined || verb === only);
  for (const register of await Promise.all(parts.map(([, load]) => load()))) register(program, act);
  return program;
}

function hasDebugFlag(argv: string[]): boolean {
  return argv.includes('--debug');
}

/** Runs the CLI; resolves with the process exit code. Never calls process.exit itself. */
export async function main(argv: string[], io: CliIO = processIO(), env: Environment = processEnvironment()): Promise<number> {
  const exit: ExitState = { code: 0 };
  const program = await buildProgram(io, env, exit, ownPartVerb(argv));
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
