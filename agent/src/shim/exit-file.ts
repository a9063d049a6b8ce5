/**
 * Reading what a shim left behind: its exit file, and whether a recorded pid is still the
 * process we think it is (pids get reused, especially after a reboot or on small pid_max).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { ShimFiles, isRfc3339Utc, type ExitStatus } from './protocol.js';

/** The exit file is a few dozen bytes; anything much bigger is not ours. */
const MAX_EXIT_FILE_BYTES = 4096;

/** Validates the exit file's JSON text; throws GroveError(ShimFailed) with the reason. */
export function parseExitStatus(text: string, source: string = ShimFiles.exit): ExitStatus {
  const bad = (reason: string): GroveError =>
    new GroveError(ErrorCode.ShimFailed, `invalid exit file ${source}: ${reason}`, { details: { file: source } });
  if (text.length > MAX_EXIT_FILE_BYTES) throw bad('too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const v = value as Record<string, unknown>;
  const { exitCode, signal, oomKilled, finishedAt } = v;
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) {
    throw bad('exitCode must be an integer from 0 to 255');
  }
  if (signal !== undefined && (typeof signal !== 'number' || !Number.isInteger(signal) || signal < 1 || signal > 64)) {
    throw bad('signal must be an integer from 1 to 64');
  }
  if (typeof oomKilled !== 'boolean') throw bad('oomKilled must be a boolean');
  if (!isRfc3339Utc(finishedAt)) throw bad('finishedAt must be an RFC 3339 UTC time');
  const status: ExitStatus = { exitCode, oomKilled, finishedAt };
  if (signal !== undefined) status.signal = signal;
  return status;
}

/**
 * The container's exit status, or undefined while it has not exited (no exit file yet). The
 * shim renames the file into place, so a file that exists is complete.
 */
export async function readExitStatus(stateDir: string): Promise<ExitStatus | undefined> {
  const file = join(stateDir, ShimFiles.exit);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GroveError(ErrorCode.ShimFailed, `cannot read exit file ${file}: ${(err as Error).message}`, {
      cause: err,
      details: { file },
    });
  }
  return parseExitStatus(text, file);
}

/** Reads a pid file as the shim and the runtime write it ("1234\n"); undefined if absent/bad. */
export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
    const pid = Number(text);
    return pid <= 0x7fffffff ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Fields of /proc/PID/stat after the command name (which may itself contain ") "). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (field 22): a pid + start time is unique. */
export function processStartTime(pid: number): number | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const value = statFields(pid)?.[19];
  return value === undefined ? undefined : Number(value);
}

/**
 * Whether pid is a live (not zombie) process, and — when expectedCmdSubstring is given —
 * whether its command line (arguments joined by spaces) contains it, so that a recycled pid
 * belonging to some other program is not mistaken for our shim or container.
 */
export function isProcessAlive(pid: number, expectedCmdSubstring?: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const fields = statFields(pid);
  if (fields === undefined) return false;
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return false;
  if (expectedCmdSubstring === undefined) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
    return cmdline.includes(expectedCmdSubstring);
  } catch {
    return false; // exited between the two reads
  }
}
