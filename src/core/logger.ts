import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Pretty, human-oriented output; defaults to true only when stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stderr so stdout stays for command output. */
  destination?: NodeJS.WritableStream;
}

/**
 * Root logger factory. Every module takes a logger and derives its own with
 * `logger.child({ component })`; nothing here is a module-level singleton.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty && !options.destination) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname' } },
    });
  }
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
