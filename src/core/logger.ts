import { pino, type Logger, type LevelWithSilent } from 'pino';
import { DroppingDestination } from './log-destination.js';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where log lines go; defaults to JSON lines on stderr so stdout stays for command output,
   *  dropped and counted instead of crashing when stderr cannot be written (a full disk).
   *  For human-oriented output pass prettyStream() from ./pretty-stream.js. */
  destination?: NodeJS.WritableStream | DroppingDestination;
}

/**
 * Root logger factory. Every module takes a logger and derives its own with
 * `logger.child({ component })`; nothing here is a module-level singleton.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const destination = options.destination ?? new DroppingDestination({ fd: 2 });
  return pino({ level, base: undefined, redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' } }, destination);
}

/**
 * Defence in depth: fields that may hold Secret values or credentials are censored in every log
 * line, even if some future call passes a whole resource or join answer to the logger. Code must
 * still never log values; this only catches the mistake.
 */
export const REDACTED_LOG_PATHS = Object.freeze([
  'data', '*.data', 'stringData', '*.stringData',
  'password', '*.password', 'mqtt.password',
  'configKey', '*.configKey', 'token', '*.token', 'credential', '*.credential',
  'env', '*.env', 'value', '*.value',
]);

/** A logger that drops everything, for tests and quiet library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
