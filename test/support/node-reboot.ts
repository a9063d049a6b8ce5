/**
 * Test-only: what a host reboot does to an agent's containers, done by hand while the agent is
 * down: every shim and container process dies at once (SIGKILL, so no exit file is written),
 * the rootfs mounts and the cgroups disappear, and optionally the OCI runtime's state goes too
 * (it does when it lives on a tmpfs such as /run; Grove keeps it under the data dir).
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CtrInspect } from './cluster.js';
import { eventually } from './grove-cli.js';

const run = promisify(execFile);

async function gone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // A zombie is dead; whoever inherited it reaps it later.
  return stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(')')));
}

export async function simulateReboot(agentDir: string, containers: CtrInspect[], options: { wipeRuntimeState: boolean }): Promise<void> {
  const pids = [...containers.map((c) => c.shimPid), ...containers.map((c) => c.pid)].filter((p): p is number => typeof p === 'number' && p > 0);
  // Shims first: a shim that outlived its container would record the exit, which a power cut never does.
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await eventually(async () => (await Promise.all(pids.map(gone))).every(Boolean), 20_000, 'shims and containers dead');
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${agentDir}/`));
  for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(() => undefined);
  for (const c of containers) await removeCgroup(c.cgroupsPath);
  if (options.wipeRuntimeState) {
    const root = join(agentDir, 'run');
    for (const entry of await readdir(root).catch(() => [])) await rm(join(root, entry), { recursive: true, force: true });
  }
}

/** rmdir of the container's (empty) cgroup in every hierarchy, v1 or v2. */
export async function removeCgroup(cgroupsPath: string): Promise<void> {
  if (!cgroupsPath.startsWith('/grove/')) return;
  const dirs = ['/sys/fs/cgroup', ...(await readdir('/sys/fs/cgroup').catch(() => [])).map((h) => join('/sys/fs/cgroup', h))];
  for (const dir of dirs) await rmdir(join(dir, cgroupsPath)).catch(() => undefined);
}

/** Container cgroups named after these ids that still exist (for leak checks). */
export async function leftoverCgroups(ids: string[]): Promise<string[]> {
  const out: string[] = [];
  const dirs = ['/sys/fs/cgroup', ...(await readdir('/sys/fs/cgroup').catch(() => [])).map((h) => join('/sys/fs/cgroup', h))];
  for (const dir of dirs) {
    for (const id of ids) {
      const path = join(dir, 'grove', id);
      if (await readdir(path).then(() => true, () => false)) out.push(path);
    }
  }
  return out;
}
