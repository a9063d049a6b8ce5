/**
 * NodeFacts: what the scheduler needs to know about a node (architecture, capacity, free disk)
 * plus what an operator wants to see (kernel, runtime, versions). Gathered fresh for each status
 * so free memory and disk are current; every read is cheap (os calls, /proc/meminfo, statfs).
 */
import type { NodeCapacity } from './volumes/downward.js';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { selfLabels } from '../../../src/core/self-labels.js';
import type { NodeFacts } from '../../../src/core/wire-types.js';

/** Node's os.arch() → OCI/Go architecture names (what image indexes use). */
const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

export function ociArch(nodeArch: string): string {
  return ARCH[nodeArch] ?? nodeArch;
}

export interface FactsOptions {
  /** The agent's data directory: free space is measured where images and containers live. */
  dataDir: string;
  ociRuntime: string;
  cgroupVersion: number;
  agentVersion: string;
  /** The agent's --label flags: only node.grove.io/ ones are reported (the server ignores others). */
  labels?: Record<string, string>;
  /** Injectable for tests; default /proc/meminfo. */
  meminfoPath?: string;
  /** --node-ip: the InternalIP to report (checked at start by checkNodeIp); default the first physical-looking one. */
  nodeIp?: string;
}

/** MemAvailable (what can be allocated without swapping) is truer than os.freemem()'s MemFree. */
export async function memoryAvailable(meminfoPath = '/proc/meminfo'): Promise<number> {
  try {
    const text = await readFile(meminfoPath, 'utf8');
    const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(text);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux, or /proc not mounted: fall back below
  }
  return os.freemem();
}

/** Free (for unprivileged users) and total bytes of the filesystem holding `dir`. */
export async function diskSpace(dir: string): Promise<{ free: number; total: number }> {
  try {
    const st = await statfs(dir);
    return { free: Number(st.bavail) * Number(st.bsize), total: Number(st.blocks) * Number(st.bsize) };
  } catch {
    // The data dir may not exist yet on a fresh node; report 0 rather than fail the status.
    return { free: 0, total: 0 };
  }
}

export async function diskFree(dir: string): Promise<number> {
  return (await diskSpace(dir)).free;
}

/** Interfaces that are not the node's own address: containers' bridges and veths, VPN and overlay devices. */
const VIRTUAL_INTERFACE = /^(lo|cni|veth|docker|br-|grove|flannel|cali|vxlan|tun|tap|virbr|kube|cilium|weave)/;

/**
 * The node's addresses as Kubernetes lists them: its first IPv4 address on a physical-looking
 * interface (InternalIP) and its hostname (Hostname). `interfaces` injectable for tests.
 */
export function nodeAddresses(interfaces = os.networkInterfaces(), hostname = os.hostname(), nodeIp?: string): { type: 'InternalIP' | 'Hostname'; address: string }[] {
  const out: { type: 'InternalIP' | 'Hostname'; address: string }[] = [];
  const names = nodeIp !== undefined ? [] : Object.keys(interfaces).filter((n) => !VIRTUAL_INTERFACE.test(n)).sort();
  if (nodeIp !== undefined) out.push({ type: 'InternalIP', address: nodeIp });
  for (const name of names) {
    const v4 = interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) {
      out.push({ type: 'InternalIP', address: v4.address });
      break;
    }
  }
  if (hostname) out.push({ type: 'Hostname', address: hostname.slice(0, 253) });
  return out;
}

/**
 * --node-ip must be an IPv4 address this host holds (the other nodes send its pods' traffic
 * there); one line saying which addresses it has when not.
 */
export function checkNodeIp(ip: string, interfaces = os.networkInterfaces()): void {
  const own = Object.values(interfaces).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address));
  if (own.includes(ip)) return;
  const listed = own.length ? own.join(', ') : 'none';
  throw new GroveError(ErrorCode.ConfigInvalid, `--node-ip ${ip} is not an IPv4 address of this host (its addresses: ${listed})`);
}

/** PRETTY_NAME of os-release ("Debian GNU/Linux 12 (bookworm)"); undefined when unreadable. */
export async function osImage(path = '/etc/os-release'): Promise<string | undefined> {
  try {
    const m = /^PRETTY_NAME=("?)(.*)\1\s*$/m.exec(await readFile(path, 'utf8'));
    return m?.[2] ? m[2].slice(0, 256) : undefined;
  } catch {
    return undefined;
  }
}

/** Tasks running (the 4th field of /proc/loadavg, "2/523") and pid_max; undefined off Linux. */
export async function processCounts(proc = '/proc'): Promise<{ processes: number; processesMax: number } | undefined> {
  try {
    const [loadavg, pidMax] = await Promise.all([readFile(`${proc}/loadavg`, 'utf8'), readFile(`${proc}/sys/kernel/pid_max`, 'utf8')]);
    const m = /\s\d+\/(\d+)\s/.exec(loadavg);
    const max = Number(pidMax.trim());
    if (!m || !Number.isSafeInteger(max) || max <= 0) return undefined;
    return { processes: Number(m[1]), processesMax: max };
  } catch {
    return undefined;
  }
}

export async function gatherFacts(options: FactsOptions): Promise<NodeFacts> {
  const disk = await diskSpace(options.dataDir);
  const processes = await processCounts();
  const image = await osImage();
  return {
    arch: ociArch(os.arch()),
    os: process.platform,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    memoryAvailableBytes: await memoryAvailable(options.meminfoPath),
    diskFreeBytes: disk.free,
    ...(disk.total > 0 ? { diskTotalBytes: disk.total } : {}),
    ...(image !== undefined ? { osImage: image } : {}),
    addresses: nodeAddresses(undefined, undefined, options.nodeIp),
    ...(processes ?? {}),
    kernel: os.release(),
    ociRuntime: options.ociRuntime,
    cgroupVersion: options.cgroupVersion,
    agentVersion: options.agentVersion,
    // Other labels were given to the join (they label a node when it is created) and may not
    // be claimed by the node later: docs/security.md, "Node labels".
    labels: selfLabels(options.labels),
  };
}

/** The `facts` callback an Agent takes. */
export function factsProvider(options: FactsOptions): () => Promise<NodeFacts> {
  return () => gatherFacts(options);
}

/** The node's InternalIP and capacity, as the downward API reads them (status.hostIP, limits a container does not set). */
export function nodeCapacity(nodeIp?: string): NodeCapacity {
  const hostIP = nodeAddresses(undefined, undefined, nodeIp).find((a) => a.type === 'InternalIP')?.address;
  return { cpus: os.availableParallelism?.() ?? os.cpus().length, memoryBytes: os.totalmem(), ...(hostIP ? { hostIP } : {}) };
}
