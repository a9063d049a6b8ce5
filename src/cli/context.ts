import type { Command } from 'commander';
import type { Logger } from '../core/logger.js';
import { defaultDataDir } from './config.js';
import type { CliIO } from './io.js';

/** What every verb gets: its streams, a logger and the global flags, resolved once. */
export interface CliContext {
  io: CliIO;
  logger: Logger;
  dataDir: string;
  debug: boolean;
}

export interface GlobalOptions {
  dataDir?: string;
  debug?: boolean;
  logLevel?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Loads pino only when a verb runs, so help and usage errors stay fast. */
export async function contextFor(command: Command, io: CliIO): Promise<CliContext> {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const debug = Boolean(opts.debug);
  // Commands print their own results, so they log only warnings unless asked; the long-running
  // roles (server, agent) log at info like any daemon.
  const daemon = command.name() === 'server' || command.name() === 'agent';
  const requested = opts.logLevel ?? io.env.GROVE_LOG_LEVEL ?? (debug ? 'debug' : daemon ? 'info' : 'warn');
  const level = (LEVELS as readonly string[]).includes(requested) ? (requested as (typeof LEVELS)[number]) : 'warn';
  const { createLogger } = await import('../core/logger.js');
  // The root logger: every module derives its own child with a component field.
  // pino-pretty loads only for a terminal: scripts and daemons get JSON lines.
  const destination = io.stderr.isTTY ? (await import('../core/pretty-stream.js')).prettyStream() : undefined;
  const logger = createLogger({ level, destination });
  return { io, logger, dataDir: opts.dataDir ?? defaultDataDir(io.env), debug };
}
