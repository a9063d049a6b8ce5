/** A real (pino) logger whose JSON lines tests can read back: what was logged, and what was not. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/core/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Everything written so far, JSON lines. */
  text(): string;
  /** The lines parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLog(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLog {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: createLogger({ level, destination: sink }),
    text: () => text,
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
