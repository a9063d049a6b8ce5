import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { writeAtomic } from '../../agent/src/agent/volumes/atomic-writer.js';
import { resolveEnv, resolveEnvBySource } from '../../agent/src/agent/volumes/config-env.js';
import { PodVolumes } from '../../agent/src/agent/volumes/pod-volumes.js';
import type { TmpfsMounter } from '../../agent/src/runtime/tmpfs.js';
import { silentLogger } from '../../src/core/logger.js';
import { container as podContainer, podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import type { RestartPolicy } from '../../src/core/objects/pod.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-volumes-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('atomic writer', () => {
  it('writes the Kubernetes layout and swaps versions, removing the old one and stale names', async () => {
    const vol = join(dir, 'conf');
    await writeAtomic(vol, [
      { path: 'a', content: 'one', mode: 0o600 },
      { path: 'sub/b', content: 'two', mode: 0o644 },
    ]);
    expect(await readlink(join(vol, 'a'))).toBe('..data/a');
    expect(await readlink(join(vol, 'sub'))).toBe('..data/sub');
    expect(await readFile(join(vol, 'sub', 'b'), 'utf8')).toBe('two');
    expect((await stat(join(vol, 'a'))).mode & 0o777).toBe(0o600);
    const first = await readlink(join(vol, '..data'));

    await writeAtomic(vol, [{ path: 'a', content: 'uno', mode: 0o644 }]);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('uno');
    const entries = (await readdir(vol)).sort();
    expect(entries).toHaveLength(3); // a, ..data, one version directory
    expect(entries).not.toContain(first);
    expect(entries).not.toContain('sub');
    expect((await lstat(join(vol, '..data'))).isSymbolicLink()).toBe(true);
  });
});

describe('env from ConfigMaps and Secrets', () => {
  const config = new MemoryConfigSource();
  config.set('ConfigMap', 'settings', { level: 'debug', 'bad key!': 'x', mode: 'a' });
  config.set('Secret', 'db', { password: 'hunter2' });

  it('applies envFrom first, then env, later entries winning; skips keys that are no variable names', () => {
    const r = resolveEnv(
      [
        { name: 'mode', value: 'literal' },
        { name: 'PW', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'GONE', value: '', valueFrom: { secretKeyRef: { name: 'none', key: 'k', optional: true } } },
      ],
      [{ configMapRef: { name: 'settings' } }, { configMapRef: { name: 'absent', optional: true } }],
      config,
    );
    expect(r).toEqual(['level=debug', 'mode=literal', 'PW=hunter2']);
  });

  it('keeps variables read from Secrets apart, so the runtime can keep them off flash', () => {
    const r = resolveEnvBySource(
      [
        { name: 'PW', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'level', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'level', value: 'info' },
      ],
      [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'db' }, prefix: 'DB_' }],
      config,
    );
    // A literal that overrides a Secret's variable makes it plain again.
    expect(r).toEqual({ plain: ['level=info', 'mode=a'], secret: ['DB_password=hunter2', 'PW=hunter2'] });
  });

  it('names the missing object or key, never a value', () => {
    expect(() => resolveEnv([], [{ secretRef: { name: 'nope' } }], config)).toThrow('Secret "nope" not found on this node');
    expect(() => resolveEnv([{ name: 'X', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } }], undefined, config)).toThrow('key "user" not found in Secret "db"');
    expect(() => resolveEnv([{ name: 'X', value: '', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }], undefined, undefined)).toThrow('ConfigMap "settings" not found on this node');
  });
});

describe('pod volumes', () => {
  /** Records mounts instead of making them (the real tmpfs is in test/integration/agent-volumes). */
  function fakeTmpfs(): TmpfsMounter & { mounted: Set<string> } {
    const mounted = new Set<string>();
    return {
      mounted,
      mount: async (d) => void mounted.add(d),
      unmount: async (d) => void mounted.delete(d),
      resize: async () => undefined,
      isMounted: async (d) => mounted.has(d),
    };
  }
  const pod = (volumes: WirePodTarget['spec']['volumes']): WirePodTarget => podTarget('p1', { app: 'a', hash: 'h', spec: { volumes } });
  const container = (mounts: Container['volumeMounts']): Container => podContainer('c', { image: 'i', ...(mounts ? { volumeMounts: mounts } : {}) });

  it('undoes everything one failed preparation made (no half-created pod directory)', async () => {
    const tmpfs = fakeTmpfs();
    const volumes = new PodVolumes({ dataDir: dir, logger: silentLogger(), config: new MemoryConfigSource(), tmpfs });
    const p = pod([
      { name: 'fast', emptyDir: { medium: 'Memory' } },
      { name: 'named', persistentVolumeClaim: { claimName: 'fresh' } },
      { name: 'conf', configMap: { name: 'missing' } },
    ]);
    await expect(
      volumes.mountsFor(p, container([{ name: 'fast', mountPath: '/f' }, { name: 'named', mountPath: '/n' }, { name: 'conf', mountPath: '/c' }])),
    ).rejects.toThrow('ConfigMap "missing" not found on this node');
    expect(await readdir(dir)).toEqual([]);
    expect(tmpfs.mounted.size).toBe(0);
  });

  it('refuses a subPath that a symlink leads out of the volume', async () => {
    const volumes = new PodVolumes({ dataDir: dir, logger: silentLogger(), tmpfs: fakeTmpfs() });
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'v' } }]);
    await volumes.mountsFor(p, container([{ name: 'data', mountPath: '/d' }]));
    await symlink('/etc', join(dir, 'volumes', 'v', 'escape'));
    await expect(volumes.mountsFor(p, container([{ name: 'data', mountPath: '/d', subPath: 'escape' }]))).rejects.toThrow('volume "data": subPath "escape" leads outside the volume');
    await mkdir(join(dir, 'volumes', 'v', 'inside'));
    const [bind] = await volumes.mountsFor(p, container([{ name: 'data', mountPath: '/d', subPath: 'inside', readOnly: true }]));
    expect(bind).toEqual({ source: join(dir, 'volumes', 'v', 'inside'), destination: '/d', readOnly: true });
  });

  it('keeps a secret volume on tmpfs and unmounts it before removing the pod', async () => {
    const tmpfs = fakeTmpfs();
    const config = new MemoryConfigSource();
    config.set('Secret', 's', { k: 'v' });
    const volumes = new PodVolumes({ dataDir: dir, logger: silentLogger(), config, tmpfs });
    const [bind] = await volumes.mountsFor(pod([{ name: 'sec', secret: { secretName: 's' } }]), container([{ name: 'sec', mountPath: '/s' }]));
    expect(bind!.readOnly).toBe(true);
    expect(tmpfs.mounted).toEqual(new Set([join(dir, 'pods', 'p1', 'volumes', 'sec')]));
    await volumes.sync(new Set(['p1']));
    expect(tmpfs.mounted.size).toBe(1);
    await volumes.collectPod('p1');
    expect(tmpfs.mounted.size).toBe(0);
    expect(await readdir(join(dir, 'pods'))).toEqual([]);
    await volumes.sync(new Set());
  });
});
