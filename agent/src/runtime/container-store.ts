import { mkdir, readdir, readFile, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ContainerSpec } from './container-spec.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';

/** What Grove remembers about a container it created. Runtime state is derived, not stored. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** Canonical image reference and the manifest digest it resolved to. */
  image: string;
  imageDigest: string;
  spec: ContainerSpec;
  /** The argv that runs, after merging the image's entrypoint and cmd. */
  command: string[];
  runtime: 'runc' | 'crun';
  cgroupsPath: string;
  rootfsKind: 'overlay' | 'copy';
  createdAt: string;
  pid?: number;
  shimPid?: number;
  startedAt?: string;
  /** Bridge network attachment (CNI): released when the container is removed. */
  network?: { ip: string; netns: string };
}

const MAX_RECORD_BYTES = 256 * 1024;
const ID_PATTERN = /^[a-f0-9]{64}$/;

/**
 * Container records on disk: one directory per container holding container.json, the OCI
 * bundle and the shim's state, plus a names/ directory of symlinks (name → id) whose atomic
 * creation makes names unique even between two concurrent `grove ctr run`.
 */
export class ContainerStore {
  readonly containersDir: string;
  private readonly namesDir: string;

  constructor(dataDir: string) {
    this.containersDir = join(dataDir, 'containers');
    this.namesDir = join(dataDir, 'names');
  }

  containerDir(id: string): string {
    return join(this.containersDir, id);
  }

  stateDir(id: string): string {
    return join(this.containerDir(id), 'state');
  }

  async init(): Promise<void> {
    await mkdir(this.containersDir, { recursive: true, mode: 0o700 });
    await mkdir(this.namesDir, { recursive: true, mode: 0o700 });
  }

  /** Reserves a name for an id; fails with ContainerExists when another container has it. */
  async claimName(name: string, id: string): Promise<void> {
    try {
      await symlink(id, join(this.namesDir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        const owner = await this.idForName(name);
        if (owner && !(await this.exists(owner))) {
          // The owner vanished without releasing its name (crash mid-remove): take it over.
          await unlink(join(this.namesDir, name)).catch(() => undefined);
          return this.claimName(name, id);
        }
        throw new GroveError(ErrorCode.ContainerExists, `container name "${name}" is already in use`, { cause: err });
      }
      throw err;
    }
  }

  async releaseName(name: string, id: string): Promise<void> {
    if ((await this.idForName(name)) === id) await unlink(join(this.namesDir, name)).catch(() => undefined);
  }

  private async idForName(name: string): Promise<string | undefined> {
    try {
      return await readlink(join(this.namesDir, name));
    } catch {
      return undefined;
    }
  }

  private async exists(id: string): Promise<boolean> {
    return (await this.read(id)) !== undefined;
  }

  async write(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(join(this.containerDir(record.id), 'container.json'), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  async read(id: string): Promise<ContainerRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    let text: string;
    try {
      text = await readFile(join(this.containerDir(id), 'container.json'), 'utf8');
    } catch {
      return undefined;
    }
    if (text.length > MAX_RECORD_BYTES) return undefined;
    try {
      const record = JSON.parse(text) as ContainerRecord;
      return record.id === id ? record : undefined;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<ContainerRecord[]> {
    let ids: string[];
    try {
      ids = await readdir(this.containersDir);
    } catch {
      return [];
    }
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records.filter((r): r is ContainerRecord => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Finds a container by exact name, full id, or an unambiguous id prefix (docker-style). */
  async find(nameOrId: string): Promise<ContainerRecord> {
    const byName = await this.idForName(nameOrId);
    if (byName) {
      const record = await this.read(byName);
      if (record) return record;
    }
    if (/^[a-f0-9]{1,64}$/.test(nameOrId)) {
      const matches = (await this.list()).filter((r) => r.id.startsWith(nameOrId));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new GroveError(ErrorCode.InvalidArgument, `container id prefix "${nameOrId}" is ambiguous (${matches.length} matches)`);
      }
    }
    throw new GroveError(ErrorCode.ContainerNotFound, `no such container: ${nameOrId}`);
  }

  async removeDir(id: string): Promise<void> {
    await rm(this.containerDir(id), { recursive: true, force: true });
  }
}
