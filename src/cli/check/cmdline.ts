/**
 * The Raspberry Pi kernel command line (cmdline.txt on the boot partition) and the memory
 * cgroup. Raspberry Pi kernels ship with the memory controller disabled; containers need it
 * for memory limits, so Grove adds `cgroup_enable=memory cgroup_memory=1` and drops any
 * `cgroup_disable=memory`. The firmware reads only the FIRST line of cmdline.txt, so the
 * result is always exactly one line.
 */
import { existsSync } from 'node:fs';
import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';

export const MEMORY_CGROUP_ARGS = ['cgroup_enable=memory', 'cgroup_memory=1'] as const;
/** Bookworm and later first (there /boot/cmdline.txt is a "moved" stub), then Bullseye and older. */
export const CMDLINE_CANDIDATES = ['/boot/firmware/cmdline.txt', '/boot/cmdline.txt'] as const;
export const BACKUP_SUFFIX = '.grove-bak';
/** The kernel's own limit is a few KiB; anything larger is not a cmdline.txt. */
const MAX_CMDLINE_BYTES = 8192;

export interface CmdlineEdit {
  text: string;
  /** False when the arguments were already right: then nothing should be written. */
  changed: boolean;
}

/** Whether a command line (as in /proc/cmdline or cmdline.txt) leaves the memory cgroup off. */
export function memoryCgroupDisabled(cmdline: string): boolean {
  let disabled = false;
  for (const token of cmdline.split(/\s+/)) {
    if (token === '--') break;
    const [key, value = ''] = splitArg(token);
    if (key === 'cgroup_disable' && value.split(',').includes('memory')) disabled = true;
    if (key === 'cgroup_enable' && value.split(',').includes('memory')) disabled = false;
  }
  return disabled;
}

/**
 * cmdline.txt with the memory cgroup enabled: every line joined into one, `memory` removed
 * from any cgroup_disable= list, the two arguments added (before a `--`, after which arguments
 * belong to init) unless present. Idempotent: a second pass reports changed=false.
 */
export function enableMemoryCgroup(original: string): CmdlineEdit {
  const tokens = original.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  let changed = original.split(/\r?\n/).filter((l) => l.trim()).length > 1;
  let initArgsAt = -1;
  for (const token of tokens) {
    if (initArgsAt < 0 && token === '--') initArgsAt = out.length;
    const [key, value] = splitArg(token);
    if (initArgsAt < 0 && key === 'cgroup_disable' && value !== undefined && value.split(',').includes('memory')) {
      const rest = value.split(',').filter((c) => c && c !== 'memory');
      if (rest.length > 0) out.push(`cgroup_disable=${rest.join(',')}`);
      changed = true;
      continue;
    }
    out.push(token);
  }
  const kernelArgs = initArgsAt < 0 ? out : out.slice(0, initArgsAt);
  const missing = MEMORY_CGROUP_ARGS.filter((arg) => !kernelArgs.includes(arg));
  if (missing.length > 0) {
    changed = true;
    out.splice(initArgsAt < 0 ? out.length : initArgsAt, 0, ...missing);
  }
  return changed ? { text: out.join(' ') + '\n', changed } : { text: original, changed };
}

function splitArg(token: string): [string, string | undefined] {
  const eq = token.indexOf('=');
  return eq < 0 ? [token, undefined] : [token.slice(0, eq), token.slice(eq + 1)];
}

/** The cmdline.txt the firmware reads: the first candidate present under `root`. */
export function findCmdline(root = '/'): string | undefined {
  return CMDLINE_CANDIDATES.map((p) => join(root, p)).find((p) => existsSync(p));
}

export interface CmdlineFixResult {
  path: string;
  changed: boolean;
  /** Where the original went (written once: the first fix's input is the one worth keeping). */
  backup?: string;
}

/** Applies enableMemoryCgroup to a cmdline.txt in place, backing the original up once. */
export async function fixCmdlineFile(path: string): Promise<CmdlineFixResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (Buffer.byteLength(text) > MAX_CMDLINE_BYTES) throw new GroveError(ErrorCode.ConfigInvalid, `${path} is larger than ${MAX_CMDLINE_BYTES} bytes: not a kernel command line`);
  const edit = enableMemoryCgroup(text);
  if (!edit.changed) return { path, changed: false };
  const backup = path + BACKUP_SUFFIX;
  if (!existsSync(backup)) await copyFile(path, backup);
  // Write beside it and rename, so a power cut never leaves a half-written boot line.
  const tmp = join(dirname(path), `.cmdline.txt.grove-${process.pid}`);
  await writeFile(tmp, edit.text);
  await rename(tmp, path);
  return { path, changed: true, backup };
}
