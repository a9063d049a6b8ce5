/**
 * The agent ↔ grove-shim protocol. Both ends live under agent/: the C side in agent/shim,
 * this TypeScript side here. docs/runtime.md describes it for humans.
 *
 * The agent starts `grove-shim` with the arguments built by `shimArguments` and fd 3 as the
 * write end of a pipe (the "sync pipe"). The shim detaches (double fork, setsid, subreaper),
 * then writes newline-delimited JSON messages on the sync pipe and closes it:
 *   {"type":"started","shimPid":N,"pid":N,"startedAt":"RFC3339"}   container is running
 *   {"type":"error","stage":"create|start|setup","message":"…"}  nothing is running
 * Afterwards the shim owns the container: it keeps its logs and writes the exit file.
 */

export const SYNC_FD = 3;
export const MAX_SYNC_BYTES = 64 * 1024;

/** Fixed file names inside a container's shim state directory. */
export const ShimFiles = {
  exit: 'exit.json',
  pid: 'shim.pid',
  containerPid: 'container.pid',
  log: 'container.log',
} as const;

export interface ShimStartedMessage {
  type: 'started';
  shimPid: number;
  pid: number;
  startedAt: string;
}

export interface ShimErrorMessage {
  type: 'error';
  stage: 'setup' | 'create' | 'start';
  message: string;
}

export type ShimMessage = ShimStartedMessage | ShimErrorMessage;

/** What the shim writes (atomically) when the container's init process has exited. */
export interface ExitStatus {
  exitCode: number;
  /** Terminating signal number, when killed by one. */
  signal?: number;
  oomKilled: boolean;
  finishedAt: string;
}

export interface ShimLaunchOptions {
  shimPath: string;
  id: string;
  bundleDir: string;
  /** Directory for the exit file, pid files and logs. */
  stateDir: string;
  runtimePath: string;
  /** --root passed to runc/crun so Grove's containers live apart from anyone else's. */
  runtimeRoot: string;
  logMaxBytes: number;
  logMaxFiles: number;
  /** cgroup file whose "oom_kill N" line tells whether the kernel OOM-killed the container. */
  oomFile?: string;
  /** How long to wait for "started"/"error" (default START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

/** The agent's default log cap: at most 2 files of 1 MiB per container. */
export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 2;
/** The shim's own limits (agent/shim/main.c): keep both sides in step. */
export const MIN_LOG_MAX_BYTES = 4096;
export const MAX_LOG_MAX_BYTES = 2 ** 40;
export const MAX_LOG_MAX_FILES = 1000;
/** The shim allows runc create 120 s; a little more lets its own error arrive first. */
export const START_TIMEOUT_MS = 150_000;
/** Container ids as runc accepts them (they become directory names). */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,127}$/;

/** RFC 3339 UTC timestamp as the shim writes it (3 or 9 fractional digits). */
export function isRfc3339Utc(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(value) &&
    !Number.isNaN(Date.parse(value))
  );
}

function isPid(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= 0x7fffffff;
}

const STAGES: ReadonlySet<string> = new Set(['setup', 'create', 'start']);

/**
 * Validates one sync-pipe line. Returns the message, or a reason string when the line is not
 * a well-formed message (the launcher turns that into a ShimFailed error).
 */
export function parseShimMessage(line: string): ShimMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return `not JSON: ${line.slice(0, 200)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.type === 'started') {
    if (!isPid(m.shimPid)) return 'started: invalid shimPid';
    if (!isPid(m.pid)) return 'started: invalid pid';
    if (!isRfc3339Utc(m.startedAt)) return 'started: invalid startedAt';
    return { type: 'started', shimPid: m.shimPid, pid: m.pid, startedAt: m.startedAt };
  }
  if (m.type === 'error') {
    if (typeof m.stage !== 'string' || !STAGES.has(m.stage)) return 'error: invalid stage';
    if (typeof m.message !== 'string') return 'error: invalid message';
    return { type: 'error', stage: m.stage as ShimErrorMessage['stage'], message: m.message };
  }
  return `unknown message type ${JSON.stringify(m.type)}`;
}
