import { Command, CommanderError } from 'commander';
import { processIO, type CliIO } from './io.js';
import { reportError } from './report.js';
import { packageVersion } from './package-root.js';
import { makeAct, type ExitState } from './verb.js';
import { registerAgent } from './roles/agent.js';
import { registerServer } from './roles/server.js';
import { registerCheck } from './verbs/check.js';
import { registerClientVerbs } from './verbs/client/index.js';
import { registerCtr } from './verbs/ctr/index.js';

/** Builds the `grove` command table: roles, client verbs and `ctr`. */
export function buildProgram(io: CliIO, exit: ExitState): Command {
  const program = new Command('grove')
    .description('Grove: a lightweight container orchestrator for edge devices')
    .version(packageVersion(), '-v, --version', 'print the version')
    .option('--data-dir <dir>', 'state directory (default /var/lib/grove as root, $GROVE_DATA_DIR)')
    .option('--debug', 'debug logs and stack traces on errors')
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent (default warn; info for server and agent; $GROVE_LOG_LEVEL)')
    .option('--config <file>', 'client config for API verbs (default $GROVE_CONFIG, then <data-dir>/client.json)')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .helpCommand('help [verb]', 'show help for a verb')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`grove: ${s.replace(/^error: /, '')}`),
    });
  const act = makeAct(io, exit);
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
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const exit: ExitState = { code: 0 };
  const program = buildProgram(io, exit);
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
