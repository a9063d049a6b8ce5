import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where log lines go; defaults to JSON lines on stderr so stdout stays for command output.
   *  For human-oriented output pass prettyStream() from ./pretty-stream.js. */
  destination?: NodeJS.WritableStream;
}

/**
 * Root logger factory. Every module takes a logger and derives its own with
 * `logger.child({ component })`; nothing here is a module-level singleton.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, base: undefined }, destination);
}

/** A logger that drops everything, for tests and quiet library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
