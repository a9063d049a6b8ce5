import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { readBootTime } from '../../agent/src/runtime/boot-time.js';
import { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { ContainerStore, type ContainerRecord } from '../../agent/src/runtime/container-store.js';
import { shimArguments, shimIdArgument } from '../../agent/src/shim/launcher.js';
import { silentLogger } from '../../src/core/logger.js';

/**
 * ContainerManager.view() derives a container's state from its shim's pid. A pid is only the
 * shim when that process names the container: after a host reboot the pid recorded before may
 * belong to the shim of another container started since.
 */
describe('ContainerManager.view: shim liveness', () => {
  const ours = 'a'.repeat(64);
  const other = 'b'.repeat(64);
  let dir: string;
  let store: ContainerStore;
  let manager: ContainerManager;
  let fakeShim: ChildProcess;

  /** A live process whose command line looks like the shim of `id`. */
  const shimLike = (id: string) => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', '/opt/grove/grove-shim', '--id', id, '--bundle', '/x'], { stdio: 'ignore' });
  const BOOT = new Date('2030-01-01T00:00:30.000Z');
  const record = (shimPid: number, startedAt = '2030-01-01T00:00:01.000Z'): ContainerRecord => ({
    id: ours,
    name: 'web-1_main',
    image: 'example/busybox:1',
    imageDigest: `sha256:${'c'.repeat(64)}`,
    spec: { id: ours, name: 'web-1_main', image: 'example/busybox:1', imageDigest: `sha256:${'c'.repeat(64)}`, env: [], limits: {}, labels: {} },
    command: ['sleep', '1'],
    runtime: 'runc',
    cgroupsPath: `/grove/${ours}`,
    rootfsKind: 'copy',
    createdAt: '2030-01-01T00:00:00.000Z',
    pid: 1234,
    shimPid,
    startedAt,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-cm-view-'));
    store = new ContainerStore(dir);
    await store.init();
    // view() reads only the store; the other dependencies are never called.
    manager = new ContainerManager({ store, logger: silentLogger(), bootTime: async () => BOOT } as unknown as ConstructorParameters<typeof ContainerManager>[0]);
  });

  afterAll(async () => {
    fakeShim?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it("matches the real shim's command line", () => {
    const argv = shimArguments({ id: ours, bundleDir: '/b', stateDir: '/s', runtimePath: '/usr/sbin/runc', runtimeRoot: '/r', logMaxBytes: 1024 * 1024, logMaxFiles: 2 } as Parameters<typeof shimArguments>[0]);
    expect(['/opt/grove/grove-shim', ...argv].join(' ')).toContain(shimIdArgument(ours));
  });

  it('is running while its own shim lives', async () => {
    fakeShim = shimLike(ours);
    await new Promise((r) => fakeShim.once('spawn', r));
    expect((await manager.view(record(fakeShim.pid!))).state).toBe('running');
    fakeShim.kill('SIGKILL');
  });

  it("is exited (exit unknown) when its pid now belongs to another container's shim", async () => {
    fakeShim = shimLike(other);
    await new Promise((r) => fakeShim.once('spawn', r));
    // Started before the boot: it died in the reboot, so it ended no later than the boot.
    expect(await manager.view(record(fakeShim.pid!))).toMatchObject({ state: 'exited', exitCode: null, finishedAt: BOOT.toISOString() });
  });

  it('has no finish time when its shim vanished during this boot (killed, not rebooted)', async () => {
    const view = await manager.view(record(2 ** 22 + 1, '2030-01-01T00:01:00.000Z'));
    expect(view).toMatchObject({ state: 'exited', exitCode: null });
    expect(view.finishedAt).toBeUndefined();
  });

  it('reads the boot time from /proc/stat (btime), undefined when absent', async () => {
    const file = join(dir, 'stat');
    await writeFile(file, 'cpu  1 2 3\nbtime 1893456030\nprocesses 5\n');
    expect(await readBootTime(file)).toEqual(new Date('2030-01-01T00:00:30.000Z'));
    expect(await readBootTime(join(dir, 'missing'))).toBeUndefined();
    expect((await readBootTime())?.getTime()).toBeLessThan(Date.now());
  });
});
