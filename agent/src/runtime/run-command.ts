/**
 * Runs a short-lived command with a deadline and keeps the start of its output: what probe
 * commands (`runc exec`, `nsenter … node probe-net-main.js`) need. Unlike execFile, the exit code
 * is a result, not an error, and a timeout first sends SIGTERM (runc and crun forward it to the
 * process in the container, which SIGKILL of the runtime CLI would leave behind), then SIGKILL.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** null when ended by a signal (the timeout's, usually). */
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, cut at maxOutput characters. */
  output: string;
}

export interface RunCommandOptions {
  timeoutMs: number;
  /** How long after SIGTERM the command gets before SIGKILL (default 2 s). */
  killAfterMs?: number;
  maxOutput?: number;
  /** Written to the command's stdin, which is then closed (absent: stdin is empty). */
  input?: string;
}

export function runCommand(path: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const max = options.maxOutput ?? 4096;
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // No input: end of file at once, as /dev/null would give. An EPIPE when the command exits
    // without reading its input shows in its exit code and output, not as an error here.
    child.stdin.on('error', () => undefined).end(options.input ?? '');
    let output = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const collect = (chunk: Buffer): void => {
      if (output.length < max) output = (output + chunk.toString('utf8')).slice(0, max);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 2000);
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(err);
    });
    let settled = false;
    const finish = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ exitCode: timedOut ? null : code, timedOut, output });
    };
    child.once('close', finish);
    // A grandchild that inherited the pipes (a daemonising probe command) would hold 'close'
    // back for as long as it lives: shortly after the exit, take what output there is.
    child.once('exit', (code) => setTimeout(() => finish(code), 200).unref());
  });
}
