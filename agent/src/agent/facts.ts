/**
 * NodeFacts: what the scheduler needs to know about a node (architecture, capacity, free disk)
 * plus what an operator wants to see (kernel, runtime, versions). Gathered fresh for each status
 * so free memory and disk are current; every read is cheap (os calls, /proc/meminfo, statfs).
 */
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

export async function diskFree(dir: string): Promise<number> {
  try {
    const st = await statfs(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    // The data dir may not exist yet on a fresh node; report 0 rather than fail the status.
    return 0;
  }
}

export async function gatherFacts(options: FactsOptions): Promise<NodeFacts> {
  return {
    arch: ociArch(os.arch()),
    os: process.platform,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    memoryAvailableBytes: await memoryAvailable(options.meminfoPath),
    diskFreeBytes: await diskFree(options.dataDir),
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
