/**
 * A reader that goes away: `grove get pods | head -1` closes the pipe after one line, and the
 * next write to it fails with EPIPE. Go CLIs (docker, kubectl) are ended quietly by SIGPIPE
 * there; Node ignores SIGPIPE and reports the failed write as an 'error' event on the stream,
 * which, unhandled, crashes with a stack trace. These handlers make Grove behave like those CLIs.
 */

/** The process parts this needs; injected so a test can pass a fake. */
export interface OutputProcess {
  stdout: NodeJS.EventEmitter;
  stderr: NodeJS.EventEmitter;
  exit(code: number): void;
}

/** A write failed because nobody reads the other end any more. */
export function isClosedOutputError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/**
 * stdout closed → exit 0 at once, whatever the verb was doing (a `logs -f` would otherwise
 * follow forever for nobody). stderr closed → keep going: there is nobody left to tell, and the
 * verb's own exit code still says how it went. Any other stream error stays fatal as before.
 */
export function endQuietlyWhenOutputCloses(proc: OutputProcess): void {
  proc.stdout.on('error', (err: unknown) => {
    if (!isClosedOutputError(err)) throw err;
    proc.exit(0);
  });
  proc.stderr.on('error', (err: unknown) => {
    if (!isClosedOutputError(err)) throw err;
  });
}
