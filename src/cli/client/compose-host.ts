/**
 * The applying machine as the compose translation sees it (src/core/manifests/compose-prepare.ts
 * ComposeHost): this shell's environment, `--env-file` and `--profile`, and the files compose
 * reads at apply time (.env, env_file, secrets and configs `file:`), each size-limited.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { ComposeHost } from '../../core/manifests/compose-prepare.js';

/** Larger than this is no env file, secret or config (Kubernetes stores at most 1 MiB per object). */
const MAX_READ_BYTES = 1024 * 1024;

/** A file's text; undefined when it does not exist; other failures say the path and why. */
export function readSmallText(path: string): string | undefined {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new GroveError(ErrorCode.InvalidArgument, `${path}: not a regular file`);
    size = info.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof GroveError) throw err;
    throw new GroveError(ErrorCode.InvalidArgument, `${path}: ${(err as Error).message}`, { cause: err });
  }
  if (size > MAX_READ_BYTES) throw new GroveError(ErrorCode.ManifestInvalid, `${path}: larger than 1 MiB`);
  return readFileSync(path, 'utf8');
}

export interface ComposeHostOptions {
  envFile?: readonly string[];
  profile?: readonly string[];
  projectName?: string | undefined;
}

export function composeHost(options: ComposeHostOptions, environment: NodeJS.ProcessEnv = process.env): ComposeHost {
  return {
    environment,
    ...(options.envFile?.length ? { envFiles: options.envFile.map((f) => resolve(f)) } : {}),
    ...(options.profile?.length ? { profiles: [...options.profile] } : {}),
    ...(options.projectName ? { project: options.projectName } : {}),
    readText: readSmallText,
  };
}
