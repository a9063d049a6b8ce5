/**
 * docker --init for Grove: the node's static grove-shim, bound read-only into the container, runs
 * as its PID 1 (`grove-shim init -- CMD…`, agent/shim/init.c): it reaps orphaned zombies and
 * forwards stop signals to the command, which as PID 1 itself would ignore SIGTERM unless it
 * installs a handler.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { BindMount } from './host-access.js';
import { isStaticElf } from './secret-env.js';

/** Where the init appears inside the container. */
export const INIT_PATH = '/.grove/init';

export interface InitMount {
  mount: BindMount;
  /** What goes before the container's own argv (and before env-exec's, so init stays PID 1). */
  argsPrefix: string[];
}

export async function initMount(shimPath: string): Promise<InitMount> {
  const elf = await readFile(shimPath).catch(() => undefined);
  if (!elf || !isStaticElf(elf)) {
    throw new GroveError(ErrorCode.RuntimeFailed, `init: true needs a statically linked grove-shim; ${shimPath} is not (rebuild it with musl-gcc or a static libc)`);
  }
  return { mount: { source: shimPath, destination: INIT_PATH, readOnly: true }, argsPrefix: [INIT_PATH, 'init', '--'] };
}
