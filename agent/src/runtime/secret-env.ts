/**
 * Variables read from Secrets, kept off flash: the OCI config.json, the runtime's state.json
 * (under the data dir) and the container record all hold the process environment, so Secret
 * values go into a tmpfs file in the container's directory instead. The container's command is
 * prefixed with `grove-shim env-exec FILE`, bound read-only into the container, which adds the
 * file's entries to the environment and execs the real command. Exec probes and `runc exec`
 * do not see these variables (they read the environment of config.json).
 */
import { open, readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { BindMount } from './host-access.js';
import type { TmpfsMounter } from './tmpfs.js';

/** Where the file and the helper appear inside the container. */
export const SECRET_ENV_FILE = '/.grove/secret-env';
export const ENV_EXEC_PATH = '/.grove/env-exec';
const MAX_SECRET_ENV_BYTES = 1024 * 1024;

export interface SecretEnvMount {
  mounts: BindMount[];
  /** What goes before the container's own argv. */
  argsPrefix: string[];
  unmount(): Promise<void>;
}

function secretEnvDir(containerDir: string): string {
  return join(containerDir, 'secret-env');
}

/** Mounts a tmpfs in the container's directory, writes the entries there, returns the binds. */
export async function mountSecretEnv(containerDir: string, entries: readonly string[], shimPath: string, tmpfs: TmpfsMounter): Promise<SecretEnvMount> {
  const content = Buffer.from(entries.map((e) => `${e}\0`).join(''));
  if (content.length > MAX_SECRET_ENV_BYTES) {
    throw new GroveError(ErrorCode.InvalidArgument, `variables from Secrets take ${content.length} bytes, more than ${MAX_SECRET_ENV_BYTES}`);
  }
  await assertStatic(shimPath);
  const dir = secretEnvDir(containerDir);
  await mkdir(dir, { mode: 0o700 });
  await tmpfs.mount(dir, content.length + 4096, 0o755);
  const unmount = async (): Promise<void> => {
    await tmpfs.unmount(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const file = join(dir, 'env');
    // Readable by the container's user, whoever that is; the directory above is root's only.
    const handle = await open(file, 'wx', 0o444);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return {
      mounts: [
        { source: file, destination: SECRET_ENV_FILE, readOnly: true, noExec: true },
        { source: shimPath, destination: ENV_EXEC_PATH, readOnly: true },
      ],
      argsPrefix: [ENV_EXEC_PATH, 'env-exec', SECRET_ENV_FILE],
      unmount,
    };
  } catch (err) {
    await unmount().catch(() => undefined);
    throw err;
  }
}

/** Undoes mountSecretEnv for a container being removed (nothing to do when it had none). */
export async function unmountSecretEnv(containerDir: string, tmpfs: TmpfsMounter): Promise<void> {
  const dir = secretEnvDir(containerDir);
  if (await tmpfs.isMounted(dir)) await tmpfs.unmount(dir);
}

/** env-exec runs inside the container's rootfs, where the host's shared libraries are not. */
async function assertStatic(shimPath: string): Promise<void> {
  const elf = await readFile(shimPath).catch(() => undefined);
  if (!elf || !isStaticElf(elf)) {
    throw new GroveError(ErrorCode.RuntimeFailed, `variables from Secrets need a statically linked grove-shim; ${shimPath} is not (rebuild it with musl-gcc or a static libc)`);
  }
}

/** True when an ELF file has no PT_INTERP program header (no dynamic loader). */
export function isStaticElf(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (o: number) => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o: number) => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const phoff = is64 ? Number(le ? elf.readBigUInt64LE(32) : elf.readBigUInt64BE(32)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > elf.length) return false;
    if (u32(at) === 3) return false; // PT_INTERP
  }
  return true;
}
