import { followLog, readLogLines, type LogLine } from '../../../../agent/src/shim/log-reader.js';
import type { CliIO } from '../../io.js';

export interface StreamOptions {
  follow: boolean;
  tail?: number;
  timestamps?: boolean;
  /** With follow: resolves when following should end (the container exited). */
  until?: () => Promise<unknown>;
}

function emit(io: CliIO, line: LogLine, timestamps: boolean): void {
  const stream = line.stream === 'stderr' ? io.stderr : io.stdout;
  stream.write(`${timestamps ? line.time + ' ' : ''}${line.text}${line.partial ? '' : '\n'}`);
}

/**
 * Prints a container's log: stdout lines to stdout and stderr lines to stderr, as docker does.
 * When following, stops once `until` resolves and everything written so far has been shown.
 */
export async function streamLogs(io: CliIO, stateDir: string, options: StreamOptions): Promise<void> {
  const timestamps = options.timestamps ?? false;
  if (!options.follow) {
    for (const line of await readLogLines(stateDir, options.tail !== undefined ? { tail: options.tail } : {})) emit(io, line, timestamps);
    return;
  }
  const stop = new AbortController();
  void options.until?.().then(() => stop.abort());
  for await (const line of followLog(stateDir, { signal: stop.signal, ...(options.tail !== undefined ? { tail: options.tail } : {}) })) {
    emit(io, line, timestamps);
  }
}
