import { readFile, readdir, access } from 'node:fs/promises';
import { join } from 'node:path';
import { release } from 'node:os';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';

/**
 * Facts about the host that decide which OCI runtime and which config we can use. Everything is
 * read from files under an injectable root, so unit tests feed fake /proc and /sys trees.
 */

/** legacy: v1 only; hybrid: v1 controllers plus an empty cgroup2 at /sys/fs/cgroup/unified; unified: pure v2. */
export type CgroupMode = 'legacy' | 'hybrid' | 'unified';

export interface Rlimit {
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

export interface HostFacts {
  /** The version that owns the resource controllers (hybrid counts as 1). */
  cgroupVersion: 1 | 2;
  cgroupMode: CgroupMode;
  /** Where the cgroup filesystems live on the host, normally /sys/fs/cgroup. */
  cgroupRoot: string;
  /** Resource controllers that can be used: memory, cpu, pids … (no name=… hierarchies). */
  controllers: string[];
  /**
   * v1 only: hierarchy key ("memory", "cpu", "name=systemd") → its mount point. Controllers
   * co-mounted (cpu,cpuacct) share one mount point. Empty on unified hosts.
   */
  cgroupMounts: Record<string, string>;
  /** The unified (v2) mount point, on unified and hybrid hosts. */
  unifiedMount?: string;
  /** Whether a memory+swap limit can be set (v1 memory.memsw.*, v2 memory.swap.max). */
  memorySwapSupported: boolean;
  /** Hard RLIMIT_NOFILE of this process: containers inherit it as their ceiling (no CAP_SYS_RESOURCE). */
  nofileHardLimit?: number;
  /** CapBnd of /proc/self/status (hex): the capabilities a container can be given at all. */
  capBounding?: string;
  /** RLIMIT_* name → limits, from /proc/self/limits. */
  rlimits: Record<string, Rlimit>;
  overlaySupported: boolean;
  /** OCI/Go architecture name: amd64, arm64, arm … */
  arch: string;
  kernel: string;
}

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

const NODE_TO_OCI_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', riscv64: 'riscv64' };

const CGROUP_ROOT = '/sys/fs/cgroup';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    // "36 35 98:0 /root /mnt opts [optional fields…] - fstype source superopts"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 1) continue;
    mounts.push({
      mountPoint: unescapeMount(left[4]!),
      fsType: right[0]!,
      superOptions: (right[2] ?? '').split(',').filter(Boolean),
    });
  }
  return mounts;
}

/** Parses /proc/<pid>/limits into RLIMIT_* → {soft, hard}. */
export function parseLimits(text: string): Record<string, Rlimit> {
  const out: Record<string, Rlimit> = {};
  const value = (v: string): number | 'unlimited' => (v === 'unlimited' ? 'unlimited' : Number(v));
  for (const line of text.split('\n')) {
    // The name column is free text with spaces, so match the known names rather than split.
    const name = Object.keys(LIMIT_NAMES).find((n) => line.startsWith(n + ' '));
    if (!name) continue;
    const [soft, hard] = line.slice(name.length).trim().split(/\s+/);
    if (soft === undefined || hard === undefined) continue;
    out[LIMIT_NAMES[name]!] = { soft: value(soft), hard: value(hard) };
  }
  return out;
}

const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime', 'xattr', 'clone_children', 'noprefix']);

/** Hierarchy keys a v1 cgroup mount carries: controllers from its super options plus name=… */
function v1Hierarchies(m: MountInfo): string[] {
  return m.superOptions.filter((o) => !V1_NON_CONTROLLER_OPTIONS.has(o) && !o.startsWith('release_agent='));
}

/** Which cgroup directory this process is in on the unified hierarchy ("0::/path"). */
async function ownUnifiedCgroup(fsRoot: string): Promise<string | undefined> {
  const text = await readText(join(fsRoot, 'proc/self/cgroup'));
  const line = text?.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3);
}

async function v2SwapSupported(fsRoot: string, mount: string): Promise<boolean> {
  // The root cgroup has no memory.swap.max, so look at our own cgroup, then at the root's children.
  const own = await ownUnifiedCgroup(fsRoot);
  if (own && own !== '/' && (await exists(join(fsRoot, mount, own, 'memory.swap.max')))) return true;
  let children: string[] = [];
  try {
    children = (await readdir(join(fsRoot, mount), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return false;
  }
  for (const child of children) {
    if (await exists(join(fsRoot, mount, child, 'memory.swap.max'))) return true;
  }
  return false;
}

export async function detectHost(fsRoot = '/'): Promise<HostFacts> {
  const mountinfo = await readText(join(fsRoot, 'proc/self/mountinfo'));
  if (mountinfo === undefined) {
    throw new GroveError(ErrorCode.ConfigInvalid, 'cannot read /proc/self/mountinfo: is /proc mounted?');
  }
  const mounts = parseMountInfo(mountinfo);
  const unifiedAtRoot = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint === CGROUP_ROOT);
  const unifiedNested = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint === `${CGROUP_ROOT}/unified`);

  const cgroupMounts: Record<string, string> = {};
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    // A bind of the same hierarchy may appear twice (containers); prefer the one under /sys/fs/cgroup.
    for (const h of v1Hierarchies(m)) {
      const known = cgroupMounts[h];
      if (known === undefined || (!known.startsWith(CGROUP_ROOT + '/') && m.mountPoint.startsWith(CGROUP_ROOT + '/'))) {
        cgroupMounts[h] = m.mountPoint;
      }
    }
  }
  const v1Controllers = Object.keys(cgroupMounts).filter((h) => !h.startsWith('name=')).sort();

  let facts: Pick<HostFacts, 'cgroupVersion' | 'cgroupMode' | 'controllers' | 'cgroupMounts' | 'unifiedMount' | 'memorySwapSupported'>;
  if (unifiedAtRoot) {
    const controllers = (await readText(join(fsRoot, CGROUP_ROOT, 'cgroup.controllers')))?.trim().split(/\s+/).filter(Boolean) ?? [];
    facts = {
      cgroupVersion: 2,
      cgroupMode: 'unified',
      controllers: controllers.sort(),
      cgroupMounts: {},
      unifiedMount: CGROUP_ROOT,
      memorySwapSupported: controllers.includes('memory') && (await v2SwapSupported(fsRoot, CGROUP_ROOT)),
    };
  } else if (v1Controllers.length > 0) {
    const memory = cgroupMounts.memory;
    facts = {
      cgroupVersion: 1,
      cgroupMode: unifiedNested ? 'hybrid' : 'legacy',
      controllers: v1Controllers,
      cgroupMounts,
      ...(unifiedNested ? { unifiedMount: unifiedNested.mountPoint } : {}),
      memorySwapSupported: memory !== undefined && (await exists(join(fsRoot, memory, 'memory.memsw.limit_in_bytes'))),
    };
  } else {
    throw new GroveError(
      ErrorCode.ConfigInvalid,
      `no cgroup filesystem is mounted at ${CGROUP_ROOT}: containers need cgroups (check the kernel command line)`,
    );
  }

  const limitsText = await readText(join(fsRoot, 'proc/self/limits'));
  const rlimits = limitsText ? parseLimits(limitsText) : {};
  const nofile = rlimits.RLIMIT_NOFILE?.hard;
  const filesystems = (await readText(join(fsRoot, 'proc/filesystems'))) ?? '';
  const kernel = (await readText(join(fsRoot, 'proc/sys/kernel/osrelease')))?.trim() || release();
  const capBounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec((await readText(join(fsRoot, 'proc/self/status'))) ?? '')?.[1];

  return {
    ...facts,
    cgroupRoot: CGROUP_ROOT,
    // "unlimited" cannot be passed on as a number; fs.nr_open caps it in practice anyway.
    ...(typeof nofile === 'number' ? { nofileHardLimit: nofile } : {}),
    ...(capBounding !== undefined ? { capBounding } : {}),
    rlimits,
    overlaySupported: /\boverlay$/m.test(filesystems),
    arch: NODE_TO_OCI_ARCH[process.arch] ?? process.arch,
    kernel,
  };
}
