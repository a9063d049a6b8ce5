/**
 * tmpfs on the node for emptyDir medium Memory and for Secret volumes (secrets never touch
 * flash). A directory is a mount point when its device differs from its parent's.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { runCommand } from './run-command.js';

export interface TmpfsMounter {
  mount(dir: string, sizeBytes: number, mode: number): Promise<void>;
  unmount(dir: string): Promise<void>;
  /** Changes the size of a mounted tmpfs in place (containers keep their binds of it). */
  resize(dir: string, sizeBytes: number): Promise<void>;
  isMounted(dir: string): Promise<boolean>;
}

const pageRounded = (bytes: number): number => Math.max(4096, Math.ceil(bytes / 4096) * 4096);

async function run(argv: string[], what: string): Promise<void> {
  const r = await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 10_000, maxOutput: 4096 });
  if (r.exitCode !== 0) throw new GroveError(ErrorCode.RuntimeFailed, `${what}: ${r.output.trim() || `exit ${r.exitCode ?? 'signal'}`}`);
}

/** mount(8)/umount(8): what the agent (root) has everywhere it runs. */
export const systemTmpfs: TmpfsMounter = {
  async mount(dir, sizeBytes, mode) {
    // nosuid,nodev: a volume is data, never a way to a setuid binary or a device.
    const options = `size=${pageRounded(sizeBytes)},mode=${mode.toString(8)},nosuid,nodev`;
    await run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', dir], `mounting tmpfs on ${dir}`);
  },
  async resize(dir, sizeBytes) {
    await run(['mount', '-o', `remount,size=${pageRounded(sizeBytes)}`, dir], `resizing the tmpfs on ${dir}`);
  },
  async unmount(dir) {
    await run(['umount', dir], `unmounting ${dir}`);
  },
  async isMounted(dir) {
    const [own, parent] = await Promise.all([stat(dir).catch(() => undefined), stat(dirname(dir)).catch(() => undefined)]);
    return own !== undefined && parent !== undefined && own.dev !== parent.dev;
  },
};
