/**
 * Starting a container through grove-shim: build its arguments, spawn it with the sync pipe on
 * fd 3 and wait for its one answer. The shim detaches itself, so the child we spawn exits
 * almost at once; the answer comes from the detached grandchild over the inherited pipe.
 */
import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import {
  CONTAINER_ID_PATTERN,
  MAX_LOG_MAX_BYTES,
  MAX_LOG_MAX_FILES,
  MAX_SYNC_BYTES,
  MIN_LOG_MAX_BYTES,
  START_TIMEOUT_MS,
  SYNC_FD,
  parseShimMessage,
  type ShimLaunchOptions,
  type ShimStartedMessage,
} from './protocol.js';

/** Kept so an error can quote what the shim printed before it could use the sync pipe. */
const MAX_STDERR_BYTES = 4096;

function invalid(message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, message);
}

function intInRange(name: string, value: number, min: number, max: number): string {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return String(value);
}

/** One line, bounded: runtime errors sometimes carry newlines or whole stack traces. */
function oneLine(text: string, max = 1000): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * How a shim's command line (arguments joined by spaces) names its container: `--id` comes
 * first and is followed by `--bundle`, so the trailing space keeps one id from matching a longer.
 */
export function shimIdArgument(id: string): string {
  return `--id ${id} `;
}

/** The shim's command line. Paths are made absolute because the shim chdirs to "/". */
export function shimArguments(opts: ShimLaunchOptions): string[] {
  if (!CONTAINER_ID_PATTERN.test(opts.id)) {
    throw invalid(`invalid container id ${JSON.stringify(opts.id)}: use 1-128 of [A-Za-z0-9_.+-]`);
  }
  // A bare "runc" would be resolved against the shim's cwd, not PATH: the agent resolves it.
  if (!isAbsolute(opts.runtimePath)) throw invalid(`runtime path must be absolute: ${opts.runtimePath}`);
  if (opts.oomFile !== undefined && !isAbsolute(opts.oomFile)) {
    throw invalid(`oom file path must be absolute: ${opts.oomFile}`);
  }
  const args = [
    '--id', opts.id,
    '--bundle', resolve(opts.bundleDir),
    '--state-dir', resolve(opts.stateDir),
    '--runtime', opts.runtimePath,
    '--runtime-root', resolve(opts.runtimeRoot),
    '--log-max-bytes', intInRange('logMaxBytes', opts.logMaxBytes, MIN_LOG_MAX_BYTES, MAX_LOG_MAX_BYTES),
    '--log-max-files', intInRange('logMaxFiles', opts.logMaxFiles, 1, MAX_LOG_MAX_FILES),
  ];
  if (opts.oomFile !== undefined) args.push('--oom-file', opts.oomFile);
  return args;
}

/**
 * Starts the container; resolves once it runs. Rejects with ShimFailed (message naming the
 * stage and quoting the runtime) when the shim reports an error, says nothing, or times out.
 */
export async function launchShim(opts: ShimLaunchOptions): Promise<ShimStartedMessage> {
  const args = shimArguments(opts);
  const timeoutMs = opts.startTimeoutMs ?? START_TIMEOUT_MS;
  const what = `container ${opts.id}`;

  return new Promise<ShimStartedMessage>((resolvePromise, reject) => {
    const child = spawn(opts.shimPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const sync = child.stdio[SYNC_FD] as Readable;
    const decoder = new StringDecoder('utf8');
    let settled = false;
    let received = 0;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;

    const fail = (message: string, details: Record<string, unknown> = {}): void => {
      finish(new GroveError(ErrorCode.ShimFailed, oneLine(message), { details: { id: opts.id, ...details } }));
    };
    const finish = (err: GroveError | undefined, started?: ShimStartedMessage): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The shim lives on by design: drop our ends so neither it nor we wait on the other.
      sync.destroy();
      child.stderr?.destroy();
      child.unref();
      if (err) reject(err);
      else resolvePromise(started as ShimStartedMessage);
    };
    const handleLine = (line: string): void => {
      if (settled || line.trim() === '') return;
      const msg = parseShimMessage(line);
      if (typeof msg === 'string') {
        fail(`${what}: grove-shim sent an invalid message (${msg})`);
      } else if (msg.type === 'started') {
        finish(undefined, msg);
      } else {
        const stage = msg.stage === 'setup' ? 'grove-shim setup' : `runtime ${msg.stage}`;
        fail(`${what}: ${stage} failed: ${msg.message}`, { stage: msg.stage, runtimeMessage: msg.message });
      }
    };

    timer = setTimeout(() => {
      fail(`${what}: grove-shim gave no answer within ${Math.round(timeoutMs / 1000)} s`, {
        stateDir: opts.stateDir,
      });
    }, timeoutMs);

    child.on('error', (err) => fail(`${what}: cannot run grove-shim at ${opts.shimPath}: ${err.message}`));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    sync.on('error', () => {
      /* reported through 'close' below, with the exit status */
    });
    sync.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_SYNC_BYTES) {
        fail(`${what}: grove-shim sent more than ${MAX_SYNC_BYTES} bytes on the sync pipe`);
        return;
      }
      pending += decoder.write(chunk);
      let nl: number;
      while (!settled && (nl = pending.indexOf('\n')) >= 0) {
        handleLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    // 'close' on the child comes once it exited and the pipe closed, i.e. everyone hung up.
    child.on('close', (code, signal) => {
      handleLine(pending + decoder.end());
      if (settled) return;
      const status = signal ? `killed by ${signal}` : `exit status ${code}`;
      const said = stderr.trim() ? `: ${stderr}` : '';
      fail(`${what}: grove-shim exited without reporting a result (${status})${said}`, { exitCode: code, signal });
    });
  });
}
