import { containerRlimits, type OciRlimit } from './rlimits.js';
import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ImageRunConfig } from '../images/types.js';
import { containerHostname, resolveProcess, type ContainerSpec } from './container-spec.js';
import { ALL, ALL_CAPABILITIES, capabilityName } from '../../../src/core/capabilities.js';
import { bindMountEntry, capabilitiesIn, type ResolvedDevice } from './host-access.js';
import type { HostFacts } from './host.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp/default-profile.js';
import type { OciSeccomp, SeccompProfile } from './seccomp/profile.js';
import { renderSeccomp } from './seccomp/render.js';

/** The parts of the OCI runtime spec (v1.0.2) that Grove writes. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
    rlimits?: OciRlimit[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    devices?: OciDevice[];
    cgroupsPath: string;
    resources: OciResources;
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: OciSeccomp;
    sysctl?: Record<string, string>;
  };
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciResources {
  devices: OciDeviceRule[];
  memory?: { limit: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number };
  pids?: { limit: number };
}

export interface BuildOciConfigOptions {
  rootfsPath: string;
  /** Runtime cgroup path, e.g. /grove/<id>: relative to each hierarchy's root. */
  cgroupsPath: string;
  /** Share the host's network namespace; the host's /etc/resolv.conf is bound in read-only. */
  hostNetwork?: boolean;
  /** An existing network namespace to join (a CNI attachment) instead of a fresh, empty one. */
  networkNamespacePath?: string;
  /** The spec's devices, read from the host's nodes (resolveDevices). */
  devices?: ResolvedDevice[];
  /** The agent's bounding set (HostFacts.capBounding): what `privileged` can grant here. */
  capBounding?: string;
  /** Reads a file inside the rootfs ("/etc/passwd"); undefined when absent. Injectable for tests. */
  readRootfsFile?: (path: string) => string | undefined;
  /** The profile file the spec's seccompProfile names (Localhost, File), read by the caller (profile-load.ts). */
  seccompProfile?: SeccompProfile;
}

/** arch and kernel pick the seccomp rules that apply on this node. */
export type OciHostFacts = Pick<HostFacts, 'cgroupMode' | 'memorySwapSupported' | 'nofileHardLimit' | 'arch' | 'kernel'> & Partial<Pick<HostFacts, 'rlimits'>>;

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
] as const;

export const MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
] as const;

export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/** Deny everything, then runc's/Docker's built-in allow list (mknod anything; use only the basics). */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
];

/** Docker's ceiling for RLIMIT_NOFILE in containers; the host's hard limit lowers it. */
export const MAX_NOFILE = 1048576;
export const CPU_PERIOD_US = 100000;
/** Below this, runc's own init in the cgroup gets OOM-killed; Docker enforces the same floor. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

function standardMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'] },
  ];
}

/**
 * Mounts ordered so that a directory is mounted before anything beneath it, whatever order they
 * were listed in: runtimes mount in list order, so a volume at /etc/app listed after a subPath
 * file at /etc/app/app.conf would hide the file (containerd sorts its mounts the same way). A
 * stable sort by path depth: mounts of one depth, and two at one path, keep their order.
 */
export function parentsFirst<T extends { destination: string }>(mounts: readonly T[]): T[] {
  const depth = (path: string): number => path.split('/').filter((part) => part !== '' && part !== '.').length;
  return [...mounts].sort((a, b) => depth(a.destination) - depth(b.destination));
}

/**
 * Reads a file of the rootfs without following symlinks out of it: an image whose /etc/passwd
 * points at the host's files must not make us parse those.
 */
export function rootfsReader(rootfsPath: string): (path: string) => string | undefined {
  return (path) => {
    try {
      const root = realpathSync(rootfsPath);
      const real = realpathSync(join(root, path));
      if (real !== root && !real.startsWith(root + sep)) return undefined;
      return readFileSync(real, 'utf8');
    } catch {
      return undefined;
    }
  };
}

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

function parseColonFile(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return parseColonFile(text)
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return parseColonFile(text)
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }));
}

const ID = /^\d+$/;
const MAX_ID = 2 ** 32 - 2; // (uid_t)-1 means "no change" to the kernel

function numericId(text: string, what: string, user: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_ID) throw new GroveError(ErrorCode.ConfigInvalid, `${what} "${text}" in user "${user}" is out of range`, { details: { user } });
  return n;
}

/**
 * Docker's user resolution: "name|uid[:group|gid]". Names must exist in the rootfs; a numeric
 * uid need not (its gid then defaults to 0). Supplementary groups come from /etc/group
 * membership, only when no group was given explicitly.
 */
export function resolveUser(user: string, read: (path: string) => string | undefined): OciSpec['process']['user'] {
  const [userPart = '', groupPart, ...rest] = user.split(':');
  if (rest.length > 0 || (groupPart !== undefined && groupPart === '')) {
    throw new GroveError(ErrorCode.ConfigInvalid, `invalid user "${user}": use uid[:gid] or name[:group]`, { details: { user } });
  }
  const passwd = parsePasswd(read('/etc/passwd'));
  const name = userPart || 'root';

  let entry: PasswdEntry | undefined;
  let uid: number;
  let gid: number;
  if (ID.test(name)) {
    uid = numericId(name, 'uid', user);
    entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
  } else {
    entry = passwd.find((p) => p.name === name);
    if (!entry && userPart) {
      throw new GroveError(ErrorCode.ConfigInvalid, `unable to find user ${name}: no matching entries in the image's /etc/passwd`, { details: { user } });
    }
    // The default user is root even in an image without /etc/passwd.
    uid = entry?.uid ?? 0;
    gid = entry?.gid ?? 0;
  }

  const groups = parseGroup(read('/etc/group'));
  if (groupPart !== undefined) {
    if (ID.test(groupPart)) gid = numericId(groupPart, 'gid', user);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new GroveError(ErrorCode.ConfigInvalid, `unable to find group ${groupPart}: no matching entries in the image's /etc/group`, { details: { user } });
      gid = g.gid;
    }
    return { uid, gid };
  }

  const extra = entry ? [...new Set(groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid))].sort((a, b) => a - b) : [];
  return extra.length > 0 ? { uid, gid, additionalGids: extra } : { uid, gid };
}

/** --group-add: numeric gids as given, names looked up in the image's /etc/group. */
export function resolveGroupAdd(groupAdd: readonly string[], read: (path: string) => string | undefined): number[] {
  const groups = parseGroup(read('/etc/group'));
  return groupAdd.map((g) => {
    if (ID.test(g)) return numericId(g, 'gid', g);
    const found = groups.find((x) => x.name === g);
    if (!found) throw new GroveError(ErrorCode.ConfigInvalid, `unable to find group ${g}: no matching entries in the image's /etc/group`, { details: { group: g } });
    return found.gid;
  });
}

/**
 * The container's capabilities, as containerd gives Kubernetes containers: Docker's defaults;
 * `add: ALL` = every one the agent holds, `drop: ALL` = none; then each named one added, then
 * each named one dropped (a drop wins). Privileged: all the agent holds. Asking for one the
 * agent does not hold (its bounding set) fails here, naming it, not later in the runtime.
 */
export function containerCapabilities(spec: Pick<ContainerSpec, 'privileged' | 'capAdd' | 'capDrop' | 'name'>, capBounding: string | undefined): string[] {
  const held = capabilitiesIn(capBounding);
  if (spec.privileged) return held;
  if (!spec.capAdd?.length && !spec.capDrop?.length) return [...DEFAULT_CAPABILITIES];
  const named = (list: readonly string[], field: string): string[] =>
    list.map((written) => {
      const name = capabilityName(written);
      if (!name) throw new GroveError(ErrorCode.ConfigInvalid, `container ${spec.name}: ${field} "${written}" is not a Linux capability`, { details: { capability: written } });
      return name;
    });
  const add = named(spec.capAdd ?? [], 'capability to add');
  const drop = named(spec.capDrop ?? [], 'capability to drop');
  const caps = new Set<string>(add.includes(ALL) ? held : DEFAULT_CAPABILITIES);
  if (drop.includes(ALL)) caps.clear();
  for (const c of add) if (c !== ALL) caps.add(c);
  for (const c of drop) if (c !== ALL) caps.delete(c);
  const missing = add.filter((c) => c !== ALL && caps.has(c) && !held.includes(c));
  if (missing.length > 0) {
    throw new GroveError(ErrorCode.ConfigInvalid, `container ${spec.name}: ${missing.join(', ')} not in this node's capability bounding set (the agent cannot grant what it does not hold)`, { details: { missing } });
  }
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

function checkLimits(spec: ContainerSpec): void {
  const bad = (field: string, why: string): GroveError =>
    new GroveError(ErrorCode.InvalidArgument, `limits.${field}: ${why}`, { details: { id: spec.id, field } });
  const { memoryBytes, cpus, cpuShares, pidsLimit } = spec.limits;
  if (memoryBytes !== undefined) {
    if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0) throw bad('memoryBytes', 'must be a positive whole number of bytes');
    if (memoryBytes < MIN_MEMORY_BYTES) throw bad('memoryBytes', 'minimum memory limit is 6MiB');
  }
  if (cpus !== undefined && !(Number.isFinite(cpus) && cpus >= 0.01)) throw bad('cpus', 'must be at least 0.01');
  if (cpuShares !== undefined && !(Number.isInteger(cpuShares) && cpuShares >= 2 && cpuShares <= 262144)) throw bad('cpuShares', 'must be a whole number from 2 to 262144');
  if (pidsLimit !== undefined && !(Number.isSafeInteger(pidsLimit) && pidsLimit > 0)) throw bad('pidsLimit', 'must be a positive whole number');
}

function resources(spec: ContainerSpec, host: OciHostFacts, devices: readonly ResolvedDevice[]): OciResources {
  const rules: OciDeviceRule[] = spec.privileged
    ? [{ allow: true, access: 'rwm' }]
    : [...DEFAULT_DEVICE_RULES.map((r) => ({ ...r })), ...devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions }))];
  const out: OciResources = { devices: rules };
  const { memoryBytes, cpus, cpuShares, pidsLimit } = spec.limits;
  if (memoryBytes !== undefined) {
    // swap = limit means "no swap on top of the memory limit" (v2: the runtime writes swap.max 0).
    // Writing it where swap accounting is off makes runc fail, so then it is left out.
    out.memory = host.memorySwapSupported ? { limit: memoryBytes, swap: memoryBytes } : { limit: memoryBytes };
  }
  if (cpus !== undefined || cpuShares !== undefined) {
    out.cpu = {
      ...(cpuShares !== undefined ? { shares: cpuShares } : {}),
      ...(cpus !== undefined ? { quota: Math.round(cpus * CPU_PERIOD_US), period: CPU_PERIOD_US } : {}),
    };
  }
  if (pidsLimit !== undefined) out.pids = { limit: pidsLimit };
  return out;
}

/**
 * config.json's text. JSON.stringify cannot write 64-bit integers (seccomp masks); they are
 * bigints in the spec and written here as exact integer literals, which runc and crun read
 * as uint64. A random marker keeps the substitution off every other string.
 */
export function ociConfigJson(config: OciSpec): string {
  const marker = `bigint-${randomBytes(12).toString('hex')}:`;
  const text = JSON.stringify(config, (_key, value: unknown) => (typeof value === 'bigint' ? `${marker}${value.toString()}` : value), 2);
  return text.replace(new RegExp(`"${marker}(\\d+)"`, 'g'), '$1');
}

/**
 * The container's seccomp filter: none when privileged (Docker's rule, unless a profile file is
 * named) or Unconfined; the named profile file; otherwise the default profile. Rules depend on
 * the container's capabilities, so a capability it lacks also takes away its syscalls.
 */
function seccompFor(spec: ContainerSpec, caps: readonly string[], host: OciHostFacts, loaded: SeccompProfile | undefined): OciSeccomp | undefined {
  const choice = spec.seccompProfile;
  if (choice?.type === 'Unconfined') return undefined;
  if (choice && !loaded) {
    // The caller must have read the file: falling back to another profile would be silent.
    throw new GroveError(ErrorCode.ConfigInvalid, `seccomp profile of container ${spec.name} was not loaded`, { details: { id: spec.id } });
  }
  if (!choice && spec.privileged) return undefined;
  return renderSeccomp(loaded ?? DEFAULT_SECCOMP_PROFILE, { capabilities: caps, arch: host.arch, kernel: host.kernel });
}

/**
 * The OCI runtime config for a container. Pure apart from reading /etc/passwd and /etc/group of
 * the rootfs (injectable), so the same inputs always give the same config.
 */
export function buildOciConfig(spec: ContainerSpec, image: ImageRunConfig, host: OciHostFacts, opts: BuildOciConfigOptions): OciSpec {
  checkLimits(spec);
  const proc = resolveProcess(spec, image);
  const read = opts.readRootfsFile ?? rootfsReader(opts.rootfsPath);
  const user = resolveUser(proc.user, read);
  if (spec.groupAdd?.length) {
    const gids = [...new Set([...(user.additionalGids ?? []), ...resolveGroupAdd(spec.groupAdd, read)])].filter((g) => g !== user.gid).sort((a, b) => a - b);
    if (gids.length > 0) user.additionalGids = gids;
  }
  if (spec.runAsNonRoot && user.uid === 0) {
    throw new GroveError(ErrorCode.ConfigInvalid, `container ${spec.name}: runAsNonRoot is set and it would run as root (uid 0): set runAsUser, or use an image whose USER is not root`, { details: { id: spec.id } });
  }
  const caps = containerCapabilities(spec, opts.capBounding);
  const devices = opts.devices ?? [];

  const mounts = standardMounts();
  // On the host's IPC namespace, POSIX shared memory is the host's /dev/shm too (as the kubelet binds it).
  if (spec.hostIPC) mounts.splice(mounts.findIndex((m) => m.destination === '/dev/shm'), 1, { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  if (spec.privileged) mounts.find((m) => m.destination === '/sys')!.options = ['nosuid', 'noexec', 'nodev', 'rw'];
  const binds: OciMount[] = [];
  // A host-network pod with a resolv.conf of its own (dnsPolicy ClusterFirstWithHostNet, None) brings it in spec.mounts.
  if (opts.hostNetwork && !spec.mounts?.some((m) => m.destination === '/etc/resolv.conf')) {
    binds.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  }
  for (const m of spec.mounts ?? []) binds.push(bindMountEntry(m));
  mounts.push(...parentsFirst(binds));

  const namespaces = [...(spec.hostPID ? [] : ['pid']), ...(spec.hostIPC ? [] : ['ipc']), 'uts', 'mount'];
  if (!opts.hostNetwork) namespaces.push('network'); // a fresh one with only lo until networking lands
  // Docker's v2 default: the container sees its own cgroup as /sys/fs/cgroup, not the host tree.
  if (host.cgroupMode === 'unified') namespaces.push('cgroup');

  const seccomp = seccompFor(spec, caps, host, opts.seccompProfile);
  const nofile = host.nofileHardLimit === undefined ? undefined : Math.min(MAX_NOFILE, host.nofileHardLimit);
  const rlimits = containerRlimits(spec.name, spec.ulimits, { rlimits: host.rlimits, capBounding: opts.capBounding, nofile });

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user,
      args: proc.args,
      env: proc.env,
      cwd: proc.cwd,
      // Not inheritable/ambient: Docker dropped those after CVE-2022-24769.
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] },
      // Asking for more than the host's hard limit fails without CAP_SYS_RESOURCE; unknown → inherit.
      ...(rlimits ? { rlimits } : {}),
      // Privileged processes may gain privileges (setuid tools, as under Docker --privileged);
      // others only when asked (Kubernetes allowPrivilegeEscalation: true).
      noNewPrivileges: spec.privileged !== true && spec.allowPrivilegeEscalation !== true,
    },
    root: { path: opts.rootfsPath, readonly: spec.readOnlyRootfs === true },
    hostname: containerHostname(spec),
    mounts,
    linux: {
      namespaces: namespaces.map((type) => {
        const path = type === 'network' ? opts.networkNamespacePath ?? spec.namespaces?.network : type === 'ipc' || type === 'uts' ? spec.namespaces?.[type] : undefined;
        return path ? { type, path } : { type };
      }),
      ...(devices.length > 0 ? { devices: devices.map(({ permissions: _p, ...d }) => d) } : {}),
      cgroupsPath: opts.cgroupsPath,
      resources: resources(spec, host, devices),
      maskedPaths: spec.privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: spec.privileged ? [] : [...READONLY_PATHS],
      ...(seccomp ? { seccomp } : {}),
      ...(spec.sysctls && Object.keys(spec.sysctls).length ? { sysctl: { ...spec.sysctls } } : {}),
    },
  };
}
