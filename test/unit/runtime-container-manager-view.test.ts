import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const record = (shimPid: number): ContainerRecord => ({
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
    startedAt: '2030-01-01T00:00:01.000Z',
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-cm-view-'));
    store = new ContainerStore(dir);
    await store.init();
    // view() reads only the store; the other dependencies are never called.
    manager = new ContainerManager({ store, logger: silentLogger() } as unknown as ConstructorParameters<typeof ContainerManager>[0]);
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
    expect(await manager.view(record(fakeShim.pid!))).toMatchObject({ state: 'exited', exitCode: null });
  });
});
