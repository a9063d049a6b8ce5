/**
 * Named volumes (persistentVolumeClaim.claimName, compose named volumes): <data>/volumes/<name>/
 * on the node, kept across pod restarts, updates and rescheduling back to the node, removed only
 * by `grove volume rm` / `grove ctr volume rm`, which refuse while a container mounts it.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface NamedVolumeInfo {
  name: string;
  path: string;
  createdAt: string;
  /** Containers (names) whose mounts come from it. */
  usedBy: string[];
}

/** What the listing needs of the node's containers: names and mount sources. */
export interface MountingContainer {
  name: string;
  state: string;
  mounts: readonly { source: string }[];
}

export function namedVolumeDir(dataDir: string, name: string): string {
  checkVolumeName(name);
  return join(dataDir, 'volumes', name);
}

export function checkVolumeName(name: string): void {
  if (!NAME.test(name) || name.length > 63) {
    throw new GroveError(ErrorCode.InvalidArgument, `"${name}" is not a volume name (a DNS label: lowercase letters, digits and '-')`);
  }
}

function users(dir: string, containers: readonly MountingContainer[]): string[] {
  return containers.filter((c) => c.mounts.some((m) => m.source === dir || m.source.startsWith(`${dir}/`))).map((c) => c.name);
}

export async function listNamedVolumes(dataDir: string, containers: readonly MountingContainer[]): Promise<NamedVolumeInfo[]> {
  const root = join(dataDir, 'volumes');
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => NAME.test(n)).sort();
  const out: NamedVolumeInfo[] = [];
  for (const name of names) {
    const path = join(root, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    out.push({ name, path, createdAt: st.birthtime.toISOString(), usedBy: users(path, containers) });
  }
  return out;
}

/** Removes a named volume and its data; refuses while any container (running or not) mounts it. */
export async function removeNamedVolume(dataDir: string, name: string, containers: readonly MountingContainer[]): Promise<void> {
  const dir = namedVolumeDir(dataDir, name);
  if (!(await stat(dir).catch(() => undefined))) throw new GroveError(ErrorCode.NotFound, `volume "${name}" not found on this node`, { details: { volume: name } });
  const using = users(dir, containers);
  if (using.length > 0) {
    throw new GroveError(ErrorCode.Conflict, `volume "${name}" is in use by ${using.join(', ')}: delete the app (or the container) first`, { details: { volume: name, usedBy: using } });
  }
  await rm(dir, { recursive: true, force: true });
}
