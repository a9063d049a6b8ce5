import { execFile, spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { HostFacts } from './host.js';
import type { OciSpec } from './oci-config.js';
import { runCommand, type CommandResult } from './run-command.js';

export type OciRuntimeName = 'crun' | 'runc';

export interface OciRuntimeInfo {
  name: OciRuntimeName;
  path: string;
  version: string;
  /** Why this runtime was chosen, for `grove info` and the startup log. */
  reason: string;
}

export interface DetectOciRuntimeOptions {
  host: Pick<HostFacts, 'cgroupMode'>;
  preferred?: OciRuntimeName | 'auto';
  /** Finds a binary; defaults to a search of `searchPath` and the sbin directories. */
  which?: (bin: string) => string | undefined;
  /** $PATH of the process (the CLI's configuration reads it). */
  searchPath?: string;
  /** Returns `<bin> --version` output; injectable so unit tests need no binaries. */
  versionOf?: (path: string) => Promise<string>;
  logger: Logger;
}

// A service manager may start the agent with a PATH lacking sbin, where Debian puts runc.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The first executable `bin` in `searchPath` (a PATH value), then in the usual bin and sbin directories. */
export function whichBinary(bin: string, searchPath = ''): string | undefined {
  const dirs = [...searchPath.split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** First line of `--version`, e.g. "crun version 1.8.1" → "1.8.1". */
export function parseRuntimeVersion(output: string): string {
  const m = /version\s+(\S+)/.exec(output);
  return m ? m[1]! : output.split('\n')[0]!.trim() || 'unknown';
}

async function defaultVersionOf(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['--version'], { timeout: 5000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/**
 * Picks crun when it can work (smaller, faster start, native cgroup v2: the Raspberry Pi case),
 * else runc. crun refuses hybrid cgroup hosts outright, so there it is skipped with a reason.
 * An explicit preference wins but must exist.
 */
export async function detectOciRuntime(options: DetectOciRuntimeOptions): Promise<OciRuntimeInfo> {
  const which = options.which ?? ((bin: string) => whichBinary(bin, options.searchPath));
  const versionOf = options.versionOf ?? defaultVersionOf;
  const log = options.logger.child({ component: 'oci-runtime' });
  const preferred = options.preferred ?? 'auto';
  const hybrid = options.host.cgroupMode === 'hybrid';

  const finish = async (name: OciRuntimeName, path: string, reason: string): Promise<OciRuntimeInfo> => {
    let version = 'unknown';
    try {
      version = parseRuntimeVersion(await versionOf(path));
    } catch (err) {
      log.warn({ err, path }, 'could not read the OCI runtime version');
    }
    log.info({ runtime: name, path, version, reason }, 'selected OCI runtime');
    return { name, path, version, reason };
  };

  if (preferred !== 'auto') {
    const path = which(preferred);
    if (!path) {
      throw new GroveError(ErrorCode.RuntimeNotFound, `OCI runtime "${preferred}" was configured but is not installed (not found on PATH)`, {
        details: { runtime: preferred },
      });
    }
    if (preferred === 'crun' && hybrid) {
      log.warn('crun was configured but this host uses hybrid cgroups, which crun refuses: containers will fail to start; use runc or boot with cgroup v2');
    }
    return finish(preferred, path, 'configured');
  }

  const crun = which('crun');
  let skipped: string;
  if (crun && !hybrid) return finish('crun', crun, `crun preferred (cgroup ${options.host.cgroupMode})`);
  if (crun) skipped = 'crun skipped: it does not support hybrid cgroups';
  else skipped = 'crun not found';
  log.info({ reason: skipped }, 'not using crun');

  const runc = which('runc');
  if (runc) return finish('runc', runc, skipped);
  throw new GroveError(ErrorCode.RuntimeNotFound, 'no OCI runtime found: install crun (preferred) or runc');
}

/** `runc state` / `crun state` output (also the elements of `list --format json`). */
export interface OciState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped' | string;
  pid: number;
  bundle: string;
  created?: string;
  annotations?: Record<string, string>;
}

export interface OciRuntimeOptions {
  /** Defaults to the binary's base name; used in messages only. */
  name?: OciRuntimeName | string;
  path: string;
  /** --root: Grove's containers live apart from anyone else's runc/crun state. */
  root: string;
  logger: Logger;
  timeoutMs?: number;
}

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  /** File descriptors the container's stdout/stderr are connected to (default /dev/null). */
  stdout?: number;
  stderr?: number;
}

// runc: "container does not exist"; crun: "error opening file `<root>/<id>/status`: No such file…"
const NOT_FOUND = /container does not exist|\/status`: No such file or directory/;

/**
 * runc and crun print errors as logrus text ("time=… level=error msg=\"…\""), JSON lines or
 * plain text. Reduce whatever came out to one readable line.
 */
export function runtimeErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const messages = lines.map((line) => {
    if (line.startsWith('{')) {
      try {
        const msg = (JSON.parse(line) as { msg?: unknown }).msg;
        if (typeof msg === 'string') return msg;
      } catch {
        // not JSON after all
      }
    }
    const logrus = /level=(?:error|fatal|warning)\s+msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (logrus) return logrus[1]!.replace(/\\(.)/g, '$1');
    return line;
  });
  // The last error line is the one that made the runtime exit.
  return messages[messages.length - 1] ?? 'no error output';
}

export interface ExecStreamOptions {
  /** The caller writes the process's stdin (otherwise it reads /dev/null). */
  stdin: boolean;
  tty: boolean;
  /** The terminal's initial size (tty; default 80×24). */
  size?: { width: number; height: number };
  /** grove-shim, whose `pty` command makes the terminal. */
  ptyHelper: string;
  /**
   * The container's own process (its config.json's). With `tty` the command runs from a copy of
   * it given whole (`exec --process`), as the runtime would build it from the flags, plus the
   * terminal's size: the runtime makes the container's terminal at that size before the
   * command starts. Without it the terminal is 0×0 until the runtime's first resize, which
   * races the command (`stty size` fails, a full-screen program draws for no columns).
   */
  process?: OciSpec['process'];
}

/** The process.json of a terminal session: the container's process with `argv`, a terminal and its size. */
export function terminalExecProcess(base: OciSpec['process'], argv: readonly string[], size: { width: number; height: number }): OciSpec['process'] & { consoleSize: { height: number; width: number } } {
  return { ...structuredClone(base), args: [...argv], terminal: true, consoleSize: { height: size.height, width: size.width } };
}

/** A process running in a container, its stdio on pipes (OciRuntime.execStream). */
export interface ExecProcess {
  /** Present when asked for (stdin or tty). */
  stdin?: Writable;
  stdout: Readable;
  /** Absent with a terminal: the process's stderr is the terminal, in stdout. */
  stderr?: Readable;
  resize(width: number, height: number): void;
  /** Kills the process in the container; idempotent. */
  kill(): void;
  /** Its exit code (128 + n when signal n ended it), once its output is closed. */
  exited: Promise<number>;
}

/** Thin wrapper around the runtime CLI; one instance per (runtime, --root). */
export class OciRuntime {
  readonly name: string;
  readonly path: string;
  readonly root: string;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(options: OciRuntimeOptions) {
    this.name = options.name ?? basename(options.path);
    this.path = options.path;
    this.root = options.root;
    this.log = options.logger.child({ component: 'oci-runtime', runtime: this.name });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async state(id: string): Promise<OciState> {
    const out = await this.exec(['state', id], id);
    return JSON.parse(out) as OciState;
  }

  async list(): Promise<OciState[]> {
    const out = await this.exec(['list', '--format', 'json']);
    // runc prints "null" for no containers, crun "[\n]".
    return (JSON.parse(out.trim() || '[]') as OciState[] | null) ?? [];
  }

  async kill(id: string, signal: string | number = 'SIGTERM', options: { all?: boolean } = {}): Promise<void> {
    await this.exec(['kill', ...(options.all ? ['--all'] : []), id, String(signal)], id);
  }

  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.exec(['delete', ...(options.force ? ['--force'] : []), id], id);
  }

  async start(id: string): Promise<void> {
    await this.exec(['start', id], id);
  }

  /**
   * `<runtime> exec <id> argv…`: a new process in the running container, with the container
   * process's environment, user and working directory. Its exit code is the result; only a
   * runtime that cannot be started at all rejects.
   */
  async execIn(id: string, argv: readonly string[], options: { timeoutMs: number }): Promise<CommandResult> {
    const args = ['--root', this.root, 'exec', id, ...argv];
    this.log.debug({ args }, 'exec');
    try {
      return await runCommand(this.path, args, { timeoutMs: options.timeoutMs });
    } catch (err) {
      throw new GroveError(ErrorCode.RuntimeFailed, `${this.name} exec ${id}: ${(err as Error).message}`, { cause: err, details: { id } });
    }
  }

  /**
   * `<runtime> exec` with its stdio on pipes, for a streaming session (`kubectl exec`): the
   * process gets the container process's environment, user and working directory. With `tty`
   * it runs under `grove-shim pty` (`ptyHelper`), which gives the runtime a terminal of
   * `size` to relay to the container's own (`exec --tty`) and resizes it on request. Killing
   * it kills the process in the container (its pid is read from the runtime's --pid-file: the
   * runtime only forwards signals it can catch).
   */
  async execStream(id: string, argv: readonly string[], options: ExecStreamOptions): Promise<ExecProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'grove-exec-'));
    const pidFile = join(dir, 'exec.pid');
    const size = options.size ?? { width: 80, height: 24 };
    let args = ['--root', this.root, 'exec', '--pid-file', pidFile, ...(options.tty ? ['--tty'] : []), id, ...argv];
    if (options.tty && options.process) {
      const processFile = join(dir, 'process.json');
      await writeFile(processFile, JSON.stringify(terminalExecProcess(options.process, argv, size)), { mode: 0o600 }).catch(async (err: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw err;
      });
      args = ['--root', this.root, 'exec', '--pid-file', pidFile, '--process', processFile, id];
    }
    this.log.debug({ args }, 'exec (stream)');
    const child = options.tty
      ? spawn(options.ptyHelper, ['pty', String(size.height), String(size.width), this.path, ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
      : spawn(this.path, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', (err) => reject(new GroveError(ErrorCode.RuntimeFailed, `${this.name} exec ${id}: ${err.message}`, { cause: err, details: { id } })));
      child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 1) : 1)));
    }).finally(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));
    const control = options.tty ? (child.stdio[3] as Writable) : undefined;
    control?.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    let killed = false;
    return {
      ...(options.stdin || options.tty ? { stdin: child.stdin! } : {}),
      stdout: child.stdout!,
      // With a terminal, the process's stderr is the terminal; the helper's own says why it failed.
      ...(options.tty ? {} : { stderr: child.stderr! }),
      resize: (width, height) => {
        if (control && !control.destroyed) control.write(`${height} ${width}\n`);
      },
      kill: () => {
        if (killed) return;
        killed = true;
        void readFile(pidFile, 'utf8')
          .then((text) => process.kill(Number(text.trim()), 'SIGKILL'))
          // Not started yet (no pid file): the runtime forwards SIGTERM to what it starts.
          .catch(() => child.kill('SIGTERM'));
      },
      exited,
    };
  }

  /**
   * `create` hands its own stdio to the container, so it cannot use execFile's pipes (they would
   * stay open as long as the container lives): stdio goes to the given fds and the runtime's own
   * errors to a --log file.
   */
  async create(id: string, options: CreateOptions): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'grove-create-'));
    const logFile = join(dir, 'runtime.log');
    const devnull = await open('/dev/null', 'r+');
    try {
      const args = ['--root', this.root, '--log', logFile, '--log-format', 'json', 'create', '--bundle', options.bundle];
      if (options.pidFile) args.push('--pid-file', options.pidFile);
      args.push(id);
      this.log.debug({ args }, 'exec');
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(this.path, args, {
          stdio: [devnull.fd, options.stdout ?? devnull.fd, options.stderr ?? devnull.fd],
          timeout: this.timeoutMs,
        });
        child.on('error', reject);
        child.on('exit', (c) => resolve(c));
      });
      if (code !== 0) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        const line = code === null ? `timed out after ${this.timeoutMs} ms` : runtimeErrorLine(log);
        throw new GroveError(ErrorCode.RuntimeFailed, `${this.name} create ${id}: ${line}`, { details: { id, stderr: log } });
      }
    } finally {
      await devnull.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  private exec(args: string[], id?: string): Promise<string> {
    const full = ['--root', this.root, ...args];
    this.log.debug({ args: full }, 'exec');
    return new Promise((resolve, reject) => {
      execFile(this.path, full, { timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        let line: string;
        if (e.code === 'ENOENT') line = `${this.path} not found`;
        else if (e.killed) line = `timed out after ${this.timeoutMs} ms`;
        else line = runtimeErrorLine(stderr);
        const code = NOT_FOUND.test(line) ? ErrorCode.ContainerNotFound : ErrorCode.RuntimeFailed;
        reject(
          new GroveError(code, `${this.name} ${args[0]}${id ? ` ${id}` : ''}: ${line}`, {
            cause: err,
            details: { id, args: full, stderr: stderr.trim() },
          }),
        );
      });
    });
  }
}
