import { posix } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ImageRunConfig } from '../images/types.js';
import type { BindMount, DeviceMapping } from './host-access.js';
import type { PortMapping } from './cni/cni-config.js';
import type { ContainerSeccomp } from './seccomp/profile-load.js';
import type { Ulimit } from '../../../src/core/objects/container-options.js';

/** What the user (CLI, manifest) asks for; buildOciConfig turns it plus the image into an OCI spec. */
export interface ContainerSpec {
  id: string;
  name: string;
  /** Canonical image reference, e.g. docker.io/library/busybox:latest. */
  image: string;
  imageDigest: string;
  /** Replaces the image's Cmd (docker run IMAGE ARGS…). */
  args?: string[];
  /** Replaces the image's Entrypoint and, like docker --entrypoint, clears its Cmd. */
  entrypoint?: string[];
  /** KEY=VALUE entries merged over the image env; a bare KEY removes the variable. */
  env: string[];
  workingDir?: string;
  /** "uid[:gid]" or "name[:group]", numeric or resolved against the rootfs's /etc files. */
  user?: string;
  /** Replaces the group of the user (`user`, else the image's): Kubernetes runAsGroup without runAsUser. */
  group?: string;
  /** Refuse to start when the user resolves to root (uid 0): Kubernetes runAsNonRoot. */
  runAsNonRoot?: boolean;
  hostname?: string;
  limits: ContainerLimits;
  readOnlyRootfs?: boolean;
  /** Share the host's network namespace (docker --network host). */
  hostNetwork?: boolean;
  /** Own namespace on the node bridge through CNI, with host ports published (docker -p). */
  bridgeNetwork?: { ports: PortMapping[] };
  /** Existing namespaces to join by path (a pod sandbox's); the others are the container's own. */
  namespaces?: JoinNamespaces;
  /** Share the host's PID namespace (Kubernetes hostPID, docker --pid host): host processes are visible. */
  hostPID?: boolean;
  /** Share the host's IPC namespace and /dev/shm (Kubernetes hostIPC, docker --ipc host). */
  hostIPC?: boolean;
  /** Namespaced sysctls written at start (OCI linux.sysctl; the runtime refuses any of a namespace it does not own). */
  sysctls?: Record<string, string>;
  labels: Record<string, string>;
  /** Host paths bound into the container (docker -v). */
  mounts?: BindMount[];
  /** Host devices made in the container and allowed in its device cgroup (docker --device). */
  devices?: DeviceMapping[];
  /** Supplementary groups, numeric or named in the image's /etc/group (docker --group-add). */
  groupAdd?: string[];
  /** All capabilities, every device allowed, no masked paths: an explicit opt-in only. */
  privileged?: boolean;
  /** Added to Docker's default capabilities: CAP_ names, or ALL (every one the agent holds). */
  capAdd?: string[];
  /** Taken from them after the additions: CAP_ names, or ALL (start from none). */
  capDrop?: string[];
  /** Leaves no_new_privs off (setuid binaries work): Kubernetes allowPrivilegeEscalation true. */
  allowPrivilegeEscalation?: boolean;
  /** Absent: the default seccomp profile (none when privileged). Unconfined, or a profile file. */
  seccompProfile?: ContainerSeccomp;
  /** rlimits over the node's defaults (docker --ulimit, compose ulimits). */
  ulimits?: Ulimit[];
  /** grove-shim init runs as PID 1 in front of the command (docker --init). */
  init?: boolean;
  /** What `stop` sends first instead of SIGTERM: a name without SIG ("INT", "QUIT"). */
  stopSignal?: string;
  /** This container's log caps instead of the node's (compose logging max-size / max-file). */
  logMaxBytes?: number;
  logMaxFiles?: number;
}

export interface JoinNamespaces {
  network?: string;
  ipc?: string;
  uts?: string;
}

export interface ContainerLimits {
  memoryBytes?: number;
  /** Fractional cores (0.5 = half a core), enforced as a CFS quota. */
  cpus?: number;
  /** Relative weight (cgroup v1 cpu.shares, converted to cpu.weight on v2 by the runtime). */
  cpuShares?: number;
  pidsLimit?: number;
}

export interface ResolvedProcess {
  args: string[];
  env: string[];
  cwd: string;
  /** Still unresolved "user[:group]"; "" means root. */
  user: string;
}

/** Docker's default PATH for Linux containers whose image does not set one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function validateContainerName(name: string): void {
  if (!CONTAINER_NAME.test(name)) {
    throw new GroveError(
      ErrorCode.InvalidArgument,
      `invalid container name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit, at most 128 characters`,
      { details: { name } },
    );
  }
}

/** Docker's default: the first 12 characters of the id, unless the spec names one. */
export function containerHostname(spec: Pick<ContainerSpec, 'id' | 'hostname'>): string {
  return spec.hostname ?? spec.id.slice(0, 12);
}

/**
 * Applies `entries` to `env` the way docker's ReplaceOrAppendEnvValues does: a replaced variable
 * keeps its position (so the order is stable and predictable), new ones are appended, and a bare
 * "KEY" deletes.
 */
function mergeEnv(env: Map<string, string>, entries: string[], allowDelete: boolean): void {
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key.length === 0) {
      throw new GroveError(ErrorCode.InvalidArgument, `invalid environment variable "${entry}": empty name`);
    }
    if (eq < 0) {
      if (allowDelete) env.delete(key);
      continue;
    }
    env.set(key, entry.slice(eq + 1));
  }
}

/** Docker's rules for the process of a container: entrypoint + cmd, env merge, cwd, user. */
export function resolveProcess(spec: ContainerSpec, image: ImageRunConfig): ResolvedProcess {
  const entrypoint = spec.entrypoint ?? image.entrypoint ?? [];
  // An overridden entrypoint makes the image's Cmd meaningless (it was written for the old one).
  const cmd = spec.args ?? (spec.entrypoint !== undefined ? [] : image.cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new GroveError(ErrorCode.InvalidArgument, 'no command: image has no Entrypoint/Cmd and none was given', {
      details: { image: spec.image },
    });
  }

  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', containerHostname(spec)],
  ]);
  mergeEnv(env, image.env ?? [], false);
  mergeEnv(env, spec.env, true);

  const cwd = spec.workingDir || image.workingDir || '/';
  if (!cwd.startsWith('/')) {
    throw new GroveError(ErrorCode.InvalidArgument, `working directory "${cwd}" must be an absolute path`, {
      details: { workingDir: cwd },
    });
  }

  return {
    args,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: posix.normalize(cwd),
    user: withGroup(spec.user ?? image.user ?? '', spec.group),
  };
}

/** "name[:group]" with its group replaced by `group` ("" = root, written as uid 0). */
function withGroup(user: string, group: string | undefined): string {
  if (group === undefined) return user;
  const name = user.split(':')[0] || '0';
  return `${name}:${group}`;
}
