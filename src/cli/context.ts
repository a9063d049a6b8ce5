import type { Logger } from '../core/logger.js';
import { globalValues, type CommandConfig } from './config/command-config.js';
import type { Environment, HostFacts } from './config/environment.js';
import type { OptionTable, Values } from './config/option.js';
import type { CliIO } from './io.js';

/** What every verb gets: its streams, a logger and its configuration, resolved once. */
export interface CliContext {
  io: CliIO;
  logger: Logger;
  dataDir: string;
  debug: boolean;
  /** The client config file named by --config / $GROVE_CONFIG (API verbs). */
  clientConfig: string | undefined;
  /** The command's resolved configuration (--print-config shows it). */
  config: CommandConfig;
  /** The values of a role's table declared above the verb (e.g. `grove ctr --runtime`). */
  options<T extends OptionTable>(table: T): Values<T>;
  /** Facts of the host the roles need: PATH, systemd's notify socket. */
  host: HostFacts;
  /** Drops a secret variable so that nothing started from here inherits it. */
  forgetVariable(name: string): void;
}

/** Loads pino only when a verb runs, so help and usage errors stay fast. */
export async function contextFor(io: CliIO, env: Environment, config: CommandConfig): Promise<CliContext> {
  const global = globalValues(config);
  const { createLogger } = await import('../core/logger.js');
  // The root logger: every module derives its own child with a component field.
  // pino-pretty loads only for a terminal: scripts and daemons get JSON lines.
  const destination = io.stderr.isTTY ? (await import('../core/pretty-stream.js')).prettyStream() : undefined;
  const logger = createLogger({ level: global.logLevel, destination });
  for (const warning of config.warnings) logger.warn(warning);
  return {
    io,
    logger,
    dataDir: global.dataDir,
    debug: global.debug,
    clientConfig: global.config,
    config,
    options: (table) => config.get(table),
    host: env.host,
    forgetVariable: (name) => env.forget(name),
  };
}
