/**
 * A pod's fsGroup on its volumes, as the kubelet sets volume ownership: every file and directory
 * gets the group, group read (and write, unless the volume is read-only), directories also
 * group search and the setgid bit so that what containers create inherits the group. Symlinks
 * are neither followed nor changed. Nothing is written where the group and mode are already
 * right (flash), and with fsGroupChangePolicy OnRootMismatch the walk is skipped altogether
 * when the volume's top directory already has them.
 */
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FsGroupChoice {
  gid: number;
  /** fsGroupChangePolicy OnRootMismatch: trust the tree when its top is right. */
  onRootMismatch: boolean;
}

const RW = 0o660;
const RO = 0o440;
const DIR_EXTRA = 0o2110; // setgid + group (and owner) search

/** The mode an entry should have: its own bits plus the group's (what the kubelet ORs in). */
export function fsGroupMode(mode: number, isDir: boolean, readOnly: boolean): number {
  const perms = mode & 0o7777;
  return perms | (readOnly ? RO : RW) | (isDir ? DIR_EXTRA : 0);
}

/** How many entries it changed (0 when the volume was already right). */
export async function applyFsGroup(root: string, choice: FsGroupChoice, readOnly: boolean): Promise<number> {
  const top = await lstat(root);
  if (top.isSymbolicLink()) return 0;
  if (choice.onRootMismatch && top.gid === choice.gid && fsGroupMode(top.mode, top.isDirectory(), readOnly) === (top.mode & 0o7777)) return 0;
  let changed = 0;
  // Iterative: a deep tree must not exhaust the stack.
  const pending = [root];
  while (pending.length > 0) {
    const path = pending.pop()!;
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue; // gone meanwhile, or a link: never followed
    const want = fsGroupMode(st.mode, st.isDirectory(), readOnly);
    if (st.gid !== choice.gid) {
      await lchown(path, st.uid, choice.gid);
      changed += 1;
      // chown clears setuid/setgid on files: the mode is set again from what it was.
      await chmod(path, want);
    } else if ((st.mode & 0o7777) !== want) {
      await chmod(path, want);
      changed += 1;
    }
    if (st.isDirectory()) for (const name of await readdir(path).catch(() => [] as string[])) pending.push(join(path, name));
  }
  return changed;
}
