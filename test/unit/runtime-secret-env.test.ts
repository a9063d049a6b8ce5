import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStaticElf, mountSecretEnv, unmountSecretEnv } from '../../agent/src/runtime/secret-env.js';
import type { TmpfsMounter } from '../../agent/src/runtime/tmpfs.js';

/** Records mounts instead of making them (the integration test uses the real tmpfs). */
function fakeTmpfs(): TmpfsMounter & { mounted: Set<string> } {
  const mounted = new Set<string>();
  return {
    mounted,
    mount: async (dir) => void mounted.add(dir),
    unmount: async (dir) => void mounted.delete(dir),
    resize: async () => undefined,
    isMounted: async (dir) => mounted.has(dir),
  };
}

describe('secret variables off flash', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('tells a static ELF (the musl shim) from a dynamic one', async () => {
    expect(isStaticElf(await readFile('/bin/ls'))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
    const shim = new URL('../../agent/shim/build/grove-shim', import.meta.url).pathname;
    // npm test builds the shim first; CI's musl-gcc (or a static libc) makes it static.
    expect(isStaticElf(await readFile(shim))).toBe(true);
  });

  it('writes NUL-separated entries to a tmpfs file, binds it and env-exec read-only, and undoes it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-secret-env-'));
    const tmpfs = fakeTmpfs();
    const shim = new URL('../../agent/shim/build/grove-shim', import.meta.url).pathname;
    const m = await mountSecretEnv(dir, ['PW=a b=c', 'TOKEN=x'], shim, tmpfs);
    const file = join(dir, 'secret-env', 'env');
    expect(tmpfs.mounted.has(join(dir, 'secret-env'))).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('PW=a b=c\0TOKEN=x\0');
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect(m.argsPrefix).toEqual(['/.grove/env-exec', 'env-exec', '/.grove/secret-env']);
    expect(m.mounts.map((x) => [x.destination, x.readOnly])).toEqual([
      ['/.grove/secret-env', true],
      ['/.grove/env-exec', true],
    ]);
    await unmountSecretEnv(dir, tmpfs);
    expect(tmpfs.mounted.size).toBe(0);
  });

  it('refuses a dynamically linked helper before mounting anything', async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-secret-env-'));
    const tmpfs = fakeTmpfs();
    await expect(mountSecretEnv(dir, ['A=1'], '/bin/ls', tmpfs)).rejects.toThrow('statically linked grove-shim');
    expect(tmpfs.mounted.size).toBe(0);
    expect(existsSync(join(dir, 'secret-env'))).toBe(false);
  });
});
