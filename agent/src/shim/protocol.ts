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
}
