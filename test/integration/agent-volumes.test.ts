import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import { ContainerManagerRuntime } from '../../agent/src/agent/container-manager-runtime.js';
import type { ManagedContainer } from '../../agent/src/agent/node-runtime.js';
import { listNamedVolumes } from '../../agent/src/agent/volumes/named-volumes.js';
import { PodVolumes } from '../../agent/src/agent/volumes/pod-volumes.js';
import { systemTmpfs } from '../../agent/src/runtime/tmpfs.js';
import type { ContainerManager } from '../../agent/src/runtime/container-manager.js';
import { openLocalRuntime } from '../../src/cli/local-runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Volume } from '../../src/core/objects/pod-volumes.js';
import { podTarget, type Container, type WirePodTarget } from '../support/pod-target.js';
import { PROBE_SCRIPT, eventually, runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Pod volumes with real containers (runc), through ContainerManagerRuntime with an injected
 * MemoryConfigSource: emptyDir shared by two containers, a ConfigMap file changed in place in a
 * running container, env valueFrom/envFrom, Secret volumes on tmpfs, read-only hostPath,
 * the node's hostPath roots, missing objects as start errors, and clean-up of a removed pod.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'pod volumes and ConfigMap/Secret files (real containers)', () => {
  let dataDir = '';
  let registry: TestRegistry | undefined;
  let containers: ContainerManager;
  let runtime: ContainerManagerRuntime;
  let volumes: PodVolumes;
  let image = '';
  const config = new MemoryConfigSource();
  const started: ManagedContainer[] = [];
  const tag = randomBytes(3).toString('hex');
  let allowedRoot = '';

  const pod = (name: string, vols: Volume[], containerNames: string[] = ['main']): WirePodTarget =>
    podTarget(`${name}-${tag}`, { app: `${name}-${tag}`, containers: containerNames.map((c) => container(c, 'sleep 3600')), spec: { volumes: vols } });
  const container = (name: string, script: string, extra: Partial<Container> = {}): Container => ({
    name,
    image,
    command: ['sh', '-c', script],
    resources: { limits: { memory: '32Mi' } },
    ...extra,
  });
  const start = async (p: WirePodTarget, c: Container) => {
    const m = await runtime.start(p, c);
    started.push(m);
    return m;
  };
  const sh = async (m: ManagedContainer, script: string) => runtime.exec(m.id, ['sh', '-c', script], { timeoutMs: 10_000 });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-volumes-'));
    allowedRoot = join(dataDir, 'host-allowed');
    await mkdir(allowedRoot);
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    containers = (await openLocalRuntime({ dataDir, logger: silentLogger(), settings: { runtime: 'runc', rootfsMode: 'auto' }, searchPath: process.env.PATH ?? '' })).containers;
    volumes = new PodVolumes({ dataDir, logger: silentLogger(), config, hostPathRoots: [allowedRoot, join(dataDir, 'open')] });
    runtime = new ContainerManagerRuntime({ containers, logger: silentLogger(), probeScript: PROBE_SCRIPT, config, volumes });
    // What the agent's plan does on a config change (refresh-config step), without its loop.
    config.onChange((changed) => void runtime.refreshConfig(changed));
  }, 180_000);

  afterAll(async () => {
    for (const c of started) await runtime.remove(c.id).catch(() => undefined);
    await runtime?.syncPods([], []).catch(() => undefined);
    await registry?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shares an emptyDir between two containers of a pod, keeps it across a restart, removes it with the pod', async () => {
    const p = pod('share', [{ name: 'scratch', emptyDir: {} }, { name: 'fast', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }]);
    const mounts = [{ name: 'scratch', mountPath: '/scratch' }, { name: 'fast', mountPath: '/fast' }];
    const writer = await start(p, container('writer', 'echo hello > /scratch/msg; echo quick > /fast/msg; exec sleep 3600', { volumeMounts: mounts }));
    const reader = await start(p, container('reader', 'exec sleep 3600', { volumeMounts: mounts }));
    await eventually(async () => (await sh(reader, 'cat /scratch/msg /fast/msg')).output.includes('quick') || undefined, 20_000, 'the reader sees both files');
    expect((await sh(reader, 'cat /scratch/msg')).output.trim()).toBe('hello');
    // medium Memory: a tmpfs with the size limit.
    expect((await sh(reader, 'df -k /fast | tail -1')).output).toMatch(/\s8192\s/);
    const scratch = join(dataDir, 'pods', p.name, 'volumes', 'scratch');
    expect(await readFile(join(scratch, 'msg'), 'utf8')).toBe('hello\n');

    // The writer's container goes and a new one comes (a restart): the data stays.
    await runtime.remove(writer.id);
    await runtime.syncPods([p], [reader]);
    const again = await start(p, container('writer', 'exec sleep 3600', { volumeMounts: mounts }));
    expect((await sh(again, 'cat /scratch/msg')).output.trim()).toBe('hello');

    // Pod gone (no target, no container): its directory and tmpfs go too.
    await runtime.remove(again.id);
    await runtime.remove(reader.id);
    await runtime.syncPods([], []);
    expect(await stat(join(dataDir, 'pods', p.name)).catch(() => undefined)).toBeUndefined();
    expect(await systemTmpfs.isMounted(join(dataDir, 'pods', p.name, 'volumes', 'fast'))).toBe(false);
  }, 120_000);

  it('updates a ConfigMap file in place inside a running container and resolves env from ConfigMaps and Secrets', async () => {
    config.set('ConfigMap', `settings-${tag}`, { level: 'debug', 'app.conf': 'port=80\n' });
    config.set('Secret', `db-${tag}`, { password: 's3cr3t-value', user: 'admin' });
    const p = pod('conf', [
      { name: 'conf', configMap: { name: `settings-${tag}` } },
      { name: 'creds', secret: { secretName: `db-${tag}`, items: [{ key: 'password', path: 'db/pass', mode: 0o400 }] } },
      { name: 'all', secret: { secretName: `db-${tag}` } },
    ]);
    const c = await start(
      p,
      container('main', 'exec sleep 3600', {
        volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }, { name: 'creds', mountPath: '/run/secrets' }, { name: 'all', mountPath: '/run/all' }],
        env: [
          { name: 'LEVEL', value: '', valueFrom: { configMapKeyRef: { name: `settings-${tag}`, key: 'level' } } },
          { name: 'MISSING', value: '', valueFrom: { configMapKeyRef: { name: `settings-${tag}`, key: 'nope', optional: true } } },
          { name: 'PLAIN', value: 'x' },
        ],
        envFrom: [{ secretRef: { name: `db-${tag}` }, prefix: 'DB_' }],
      }),
    );
    // An exec sees config.json's environment; variables from Secrets are only in the process's
    // own (grove-shim env-exec loads them from tmpfs), so read PID 1's.
    expect((await sh(c, 'echo "$LEVEL $PLAIN ${MISSING-unset} ${DB_password-absent}"')).output.trim()).toBe('debug x unset absent');
    const environ = (await sh(c, 'tr "\\0" "\\n" < /proc/1/environ')).output.split('\n');
    expect(environ).toEqual(expect.arrayContaining(['LEVEL=debug', 'PLAIN=x', 'DB_user=admin', 'DB_password=s3cr3t-value']));
    expect(environ.some((e) => e.startsWith('MISSING='))).toBe(false);
    expect((await sh(c, 'cat /etc/app/level')).output).toBe('debug');
    expect((await sh(c, 'cat /run/secrets/db/pass; stat -L -c %a /run/secrets/db/pass')).output).toBe('s3cr3t-value400\n');
    // Read-only for the container.
    expect((await sh(c, 'echo x > /etc/app/level')).exitCode).not.toBe(0);
    // The Secret's files are on a tmpfs, never on the node's flash.
    expect(await systemTmpfs.isMounted(join(dataDir, 'pods', p.name, 'volumes', 'creds'))).toBe(true);
    expect(await systemTmpfs.isMounted(join(dataDir, 'pods', p.name, 'volumes', 'conf'))).toBe(false);

    config.set('ConfigMap', `settings-${tag}`, { level: 'info', 'app.conf': 'port=81\n' });
    await eventually(async () => (await sh(c, 'cat /etc/app/level')).output === 'info' || undefined, 20_000, 'the new value in the running container');
    expect((await sh(c, 'cat /etc/app/app.conf')).output).toBe('port=81\n');
    // The atomic-writer layout: key files are symlinks into ..data, one version directory left.
    expect((await sh(c, 'readlink /etc/app/level; ls -a /etc/app | grep -c "^\\.\\.2"')).output).toBe('..data/level\n1\n');

    // A Secret that grows past its tmpfs's first size still arrives (the tmpfs is resized in place).
    const big = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((k) => [k, k.repeat(1024 * 1024)]));
    config.set('Secret', `db-${tag}`, { password: 'rotated', user: 'admin', ...big });
    await eventually(async () => (await sh(c, 'cat /run/secrets/db/pass')).output === 'rotated' || undefined, 20_000, 'the rotated secret in the running container');
    await eventually(async () => (await sh(c, 'cat /run/all/[a-e] | wc -c')).output.trim() === String(5 * 1024 * 1024) || undefined, 20_000, 'all five large keys');
  }, 120_000);

  it('fails the start naming a missing ConfigMap, Secret or key, never a value, and leaves nothing behind', async () => {
    const missingObject = pod('missing', [{ name: 'conf', configMap: { name: `absent-${tag}` } }]);
    await expect(start(missingObject, container('main', 'sleep 1', { volumeMounts: [{ name: 'conf', mountPath: '/c' }] }))).rejects.toThrow(`ConfigMap "absent-${tag}" not found on this node`);
    expect(await stat(join(dataDir, 'pods', missingObject.name)).catch(() => undefined)).toBeUndefined();

    config.set('Secret', `tok-${tag}`, { token: 'do-not-print-me' });
    const missingKey = pod('missingkey', []);
    const err = await start(missingKey, container('main', 'sleep 1', { env: [{ name: 'T', value: '', valueFrom: { secretKeyRef: { name: `tok-${tag}`, key: 'other' } } }] })).catch((e: Error) => e);
    expect(String((err as Error).message)).toBe(`key "other" not found in Secret "tok-${tag}"`);
    expect(JSON.stringify(err)).not.toContain('do-not-print-me');

    // Optional: starts without it.
    const optional = pod('optional', [{ name: 'conf', configMap: { name: `absent-${tag}`, optional: true } }]);
    const c = await start(optional, container('main', 'exec sleep 3600', { volumeMounts: [{ name: 'conf', mountPath: '/c' }] }));
    expect((await sh(c, 'ls /c | wc -l')).output.trim()).toBe('0');
  }, 120_000);

  it('mounts a hostPath read-only, creates DirectoryOrCreate, and refuses paths outside the node\'s roots', async () => {
    const host = join(allowedRoot, 'data');
    await mkdir(host);
    await writeFile(join(host, 'in.txt'), 'from the host\n');
    const p = pod('host', [
      { name: 'ro', hostPath: { path: host, type: 'Directory' } },
      { name: 'made', hostPath: { path: join(allowedRoot, 'made', 'here'), type: 'DirectoryOrCreate' } },
    ]);
    const c = await start(p, container('main', 'exec sleep 3600', { volumeMounts: [{ name: 'ro', mountPath: '/host', readOnly: true }, { name: 'made', mountPath: '/made' }] }));
    expect((await sh(c, 'cat /host/in.txt')).output).toBe('from the host\n');
    const write = await sh(c, 'echo x > /host/new.txt');
    expect(write.exitCode).not.toBe(0);
    expect(write.output).toMatch(/Read-only file system/);
    expect(await stat(join(host, 'new.txt')).catch(() => undefined)).toBeUndefined();
    expect((await sh(c, 'echo y > /made/f && cat /made/f')).output).toBe('y\n');
    expect(await readFile(join(allowedRoot, 'made', 'here', 'f'), 'utf8')).toBe('y\n');

    const outside = pod('outside', [{ name: 'etc', hostPath: { path: '/etc' } }]);
    await expect(start(outside, container('main', 'sleep 1', { volumeMounts: [{ name: 'etc', mountPath: '/x' }] }))).rejects.toThrow(
      `volume "etc": host path "/etc" is outside the allowed roots on this node: ${allowedRoot}, ${join(dataDir, 'open')}`,
    );
    const missing = pod('nodir', [{ name: 'd', hostPath: { path: join(allowedRoot, 'none'), type: 'Directory' } }]);
    await expect(start(missing, container('main', 'sleep 1', { volumeMounts: [{ name: 'd', mountPath: '/x' }] }))).rejects.toThrow(`host path "${join(allowedRoot, 'none')}" does not exist on this node`);
  }, 120_000);

  it('keeps a named volume across pods and lists who uses it', async () => {
    const claim = `data-${tag}`;
    const first = pod('named1', [{ name: 'data', persistentVolumeClaim: { claimName: claim } }]);
    const a = await start(first, container('main', 'echo kept > /data/f; exec sleep 3600', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }));
    await eventually(async () => (await sh(a, 'cat /data/f')).output === 'kept\n' || undefined, 20_000, 'the file written');
    await runtime.remove(a.id);
    await runtime.syncPods([], []);
    const second = pod('named2', [{ name: 'data', persistentVolumeClaim: { claimName: claim, readOnly: true } }]);
    const b = await start(second, container('main', 'exec sleep 3600', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }));
    expect((await sh(b, 'cat /data/f')).output).toBe('kept\n');
    expect((await sh(b, 'echo x > /data/g')).exitCode).not.toBe(0);
    const views = await containers.list({ all: true });
    const listed = await listNamedVolumes(dataDir, views.map((v) => ({ name: v.name, state: v.state, mounts: v.spec.mounts ?? [] })));
    expect(listed.find((v) => v.name === claim)?.usedBy).toEqual([`${second.name}_main`]);

    // The same on the node itself: grove ctr volume ls / rm (refused while in use).
    const ctr = (...args: string[]) => runGrove(['--data-dir', dataDir, 'ctr', '--runtime', 'runc', 'volume', ...args]);
    expect((await ctr('ls')).stdout).toMatch(new RegExp(`${claim}\\s+\\S.*${second.name}_main`));
    const busy = await ctr('rm', claim);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain(`volume "${claim}" is in use by ${second.name}_main`);
    await runtime.remove(b.id);
    const removed = await ctr('rm', claim);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await stat(join(dataDir, 'volumes', claim)).catch(() => undefined)).toBeUndefined();
  }, 120_000);
});
