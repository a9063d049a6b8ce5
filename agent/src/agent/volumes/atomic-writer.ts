/**
 * Kubernetes' atomic-writer layout for ConfigMap and Secret volumes, so a change appears in
 * place inside running containers, all files at once:
 *
 *   <dir>/..2026_11_22_10_07_46.123456789/conf/a.conf   the files of one version
 *   <dir>/..data -> ..2026_11_22_10_07_46.123456789     swapped by rename(2): atomic
 *   <dir>/conf -> ..data/conf                           one symlink per top-level name
 *
 * A container binds <dir> (not a file in it), so it sees the new ..data target at once. The
 * old version's directory is removed after the swap. Values are never logged.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ProjectedFile {
  /** Relative, already checked (no "..", no leading "/", not starting with ".."). */
  path: string;
  /** Text, or bytes (a ConfigMap's binaryData). */
  content: string | Uint8Array;
  mode: number;
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** `..2026_11_22_10_07_46.<random>`: sorts by time, never collides. */
function versionDirName(now: Date): string {
  const t = now.toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
  return `..${t}.${randomBytes(5).toString('hex')}`;
}

async function currentVersion(dir: string): Promise<string | undefined> {
  try {
    return await readlink(join(dir, DATA));
  } catch {
    return undefined;
  }
}

/**
 * Writes `files` as the new version of `dir` (created if missing, mode 0755 so non-root
 * container users can traverse it; file modes are the item's). On failure the previous
 * version stays in place and the half-written new one is removed.
 */
export async function writeAtomic(dir: string, files: readonly ProjectedFile[], now: Date = new Date()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const previous = await currentVersion(dir);
  const version = versionDirName(now);
  const versionDir = join(dir, version);
  try {
    await mkdir(versionDir, { mode: 0o755 });
    for (const f of files) {
      const target = join(versionDir, f.path);
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, f.content, { mode: f.mode });
      // writeFile's mode is filtered by the umask; the item's mode is what was asked for.
      await chmod(target, f.mode);
    }
    await rm(join(dir, DATA_TMP), { force: true });
    await symlink(version, join(dir, DATA_TMP));
    await rename(join(dir, DATA_TMP), join(dir, DATA));
  } catch (err) {
    await rm(versionDir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await linkTopLevel(dir, files);
  if (previous && previous !== version) await rm(join(dir, previous), { recursive: true, force: true });
}

/** One `name -> ..data/name` symlink per top-level entry; stale ones removed. */
async function linkTopLevel(dir: string, files: readonly ProjectedFile[]): Promise<void> {
  const wanted = new Set(files.map((f) => f.path.split('/')[0]!));
  for (const name of await readdir(dir)) {
    if (name.startsWith('..') || wanted.has(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
  for (const name of wanted) {
    const link = join(dir, name);
    const target = join(DATA, name);
    const existing = await readlink(link).catch(() => undefined);
    if (existing === target) continue;
    await rm(link, { recursive: true, force: true });
    await symlink(target, link);
  }
}
