/**
 * Reads the seccomp profile file a container asked for, when it is created:
 *
 * - Localhost (manifests): a path relative to the node's `<data-dir>/seccomp/`, as kubelet
 *   reads /var/lib/kubelet/seccomp. It must resolve, symlinks included, to a regular file
 *   inside that directory: a manifest names files on nodes it does not administer.
 * - File (`grove ctr run --security-opt seccomp=FILE`): any file, named by root on the node.
 *
 * A missing, oversized or invalid profile fails the create with one clear error: a container
 * never starts unconfined because its profile could not be read.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { checkLocalhostProfile, type SeccompProfileRef } from '../../../../src/core/seccomp-ref.js';
import { MAX_PROFILE_BYTES, parseSeccompProfile } from './profile-parse.js';
import type { SeccompProfile } from './profile.js';

/** What a container asks for; absent = the runtime default. */
export type ContainerSeccomp = SeccompProfileRef | { type: 'File'; path: string };

/** The profile file a container names, or undefined for the default and Unconfined. */
export async function loadSeccompProfile(choice: ContainerSeccomp | undefined, seccompDir: string | undefined): Promise<SeccompProfile | undefined> {
  if (!choice || choice.type === 'Unconfined') return undefined;
  if (choice.type === 'File') {
    const file = await realpath(choice.path).catch((err: unknown) => {
      throw notFound(choice.path, 'no such file', err);
    });
    return readProfile(file, choice.path);
  }
  const name = `Localhost/${choice.localhostProfile}`;
  const relative = checkLocalhostProfile(choice.localhostProfile, `seccomp profile ${name}`);
  if (!seccompDir) throw new GroveError(ErrorCode.ConfigInvalid, `seccomp profile ${name}: this node has no seccomp profile directory`);
  const dir = await realpath(seccompDir).catch((err: unknown) => {
    throw notFound(name, `${seccompDir}/${relative} does not exist on this node`, err);
  });
  const file = await realpath(join(seccompDir, relative)).catch((err: unknown) => {
    throw notFound(name, `${seccompDir}/${relative} does not exist on this node`, err);
  });
  if (!file.startsWith(dir + sep)) {
    throw new GroveError(ErrorCode.PermissionDenied, `seccomp profile ${name} resolves to ${file}, outside ${seccompDir}`, { details: { profile: name } });
  }
  return readProfile(file, name);
}

function notFound(name: string, why: string, cause: unknown): GroveError {
  return new GroveError(ErrorCode.NotFound, `seccomp profile ${name}: ${why}`, { cause, details: { profile: name } });
}

/** Reads at most MAX_PROFILE_BYTES + 1 bytes of a regular file, then parses it. */
async function readProfile(path: string, name: string): Promise<SeccompProfile> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: unknown) => {
    throw notFound(name, `cannot open ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new GroveError(ErrorCode.ConfigInvalid, `seccomp profile ${name}: ${path} is not a regular file`, { details: { profile: name } });
    if (st.size > MAX_PROFILE_BYTES) throw tooBig(name);
    const buf = Buffer.alloc(MAX_PROFILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_PROFILE_BYTES) throw tooBig(name);
    }
    return parseSeccompProfile(buf.subarray(0, length).toString('utf8'), name);
  } finally {
    await fh.close();
  }
}

function tooBig(name: string): GroveError {
  return new GroveError(ErrorCode.SizeLimit, `seccomp profile ${name} is larger than ${MAX_PROFILE_BYTES / 1024} KiB`, { details: { profile: name } });
}
