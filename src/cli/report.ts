import { GroveError, errorMessage } from '../core/errors.js';
import { writeLine, type CliIO } from './io.js';

/** One clear line for the user; the stack and `cause` chain only with --debug. */
export function reportError(err: unknown, io: CliIO, debug: boolean): void {
  if (debug) {
    let current: unknown = err;
    while (current) {
      writeLine(io.stderr, current instanceof Error ? (current.stack ?? current.message) : String(current));
      current = current instanceof Error ? current.cause : undefined;
      if (current) writeLine(io.stderr, 'caused by:');
    }
    return;
  }
  const prefix = err instanceof GroveError ? '' : 'internal error: ';
  const lines = errorMessage(err).split('\n');
  // An error listing problems (every problem of a manifest, every cause of a Status) says each on its line.
  const listed = err instanceof GroveError && (Array.isArray(err.details.problems) || Array.isArray(err.details.causes));
  for (const line of listed ? lines : lines.slice(0, 1)) writeLine(io.stderr, `grove: ${prefix}${line}`);
}
