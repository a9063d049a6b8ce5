import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, TestCluster, killAndWait, manifestFixture } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';

async function deployment(registry: TestRegistry, dir: string, replicas: number): Promise<string> {
  const text = (await manifestFixture('deployment-busybox.yaml', registry.host, { '["sleep", "3600"]': TERM_AWARE })).replace('replicas: 3', `replicas: ${replicas}`);
  const file = join(dir, `deployment-${replicas}.yaml`);
  await writeFile(file, text);
  return file;
}

describeWith(['root', 'runc', 'registry', 'shim', 'mosquitto'], 'cluster on an external Mosquitto broker', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let mosquittoDir: string;
  let mosquitto: ChildProcess | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    mosquittoDir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-'));
    const port = await freePort();
    cluster = await TestCluster.create({
      extraArgs: ['--mqtt-url', `mqtt://127.0.0.1:${port}`, '--mosquitto-dir', mosquittoDir, '--mosquitto-pid-file', join(mosquittoDir, 'mosquitto.pid'), '--mosquitto-user', 'root'],
    });
    // As an operator would: the server writes mosquitto.conf, passwd and acl; Mosquitto runs on them.
    await cluster.startServer(async () => {
      await eventually(async () => existsSync(join(mosquittoDir, 'mosquitto.conf')), 20_000, 'mosquitto.conf');
      mosquitto = spawn('mosquitto', ['-c', join(mosquittoDir, 'mosquitto.conf')], { stdio: 'ignore' });
    });
    const token = await cluster.token();
    await cluster.startAgent('mq-a', { token });
    await cluster.startAgent('mq-b', { token });
    await cluster.waitForNodesReady(['mq-a', 'mq-b']);
  });

  afterAll(async () => {
    await cluster?.destroy();
    await killAndWait(mosquitto, 'SIGKILL');
    await registry?.stop();
    if (mosquittoDir) await rm(mosquittoDir, { recursive: true, force: true });
  });

  it('converges a Deployment over both nodes and removes it again', async () => {
    const file = await deployment(registry, mosquittoDir, 3);
    expect((await cluster.grove(['apply', '-f', file])).code).toBe(0);
    const pods = await cluster.waitForRunning('busybox', 3);
    expect(new Set(pods.map((p) => p.node))).toEqual(new Set(['mq-a', 'mq-b']));
    const deleted = await cluster.grove(['delete', 'deployment', 'busybox']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout.trim()).toBe('deployment.apps "busybox" deleted');
    await eventually(async () => (await cluster.runningContainers('mq-a')).length + (await cluster.runningContainers('mq-b')).length === 0, 30_000, 'containers removed');
  });

  it("refuses a deleted node's login once Mosquitto has re-read its files", async () => {
    const creds = (await cluster.joinConfig('mq-b')).mqtt;
    const login = () =>
      mqtt.connectAsync(creds.url, { username: creds.username, password: creds.password, reconnectPeriod: 0, connectTimeout: 5000 }).then(
        async (client) => {
          await client.endAsync(true);
          return 0;
        },
        (err: { code?: number }) => err.code ?? -1,
      );
    expect(await login()).toBe(0);
    expect((await cluster.grove(['node', 'delete', 'mq-b'])).code).toBe(0);
    // Rewritten and reloaded (SIGHUP) at once, not at the next join.
    const code = await eventually(async () => {
      const c = await login();
      return c === 4 || c === 5 ? c : undefined;
    }, 20_000, 'mq-b refused');
    expect([4, 5]).toContain(code);
    expect(await readFile(join(mosquittoDir, 'passwd'), 'utf8')).not.toMatch(/^node\.mq-b:/m);
  });
});

describeWith(['root', 'runc', 'registry', 'shim'], 'cluster over TLS with a pinned CA', () => {
  let registry: TestRegistry;
  let cluster: TestCluster;
  let scratch: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    scratch = await mkdtemp(join(tmpdir(), 'grove-tls-'));
    cluster = await TestCluster.create({ extraArgs: ['--tls'] });
    await cluster.startServer();
  });

  afterAll(async () => {
    await cluster?.destroy();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('refuses to join a server whose CA does not match the token', async () => {
    const token = await cluster.token();
    const [prefix, fingerprint, ...rest] = token.split('.');
    expect(fingerprint).toMatch(/^[a-f0-9]{64}$/);
    const forged = [prefix, fingerprint!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), ...rest].join('.');
    // The token in the environment, as the installer passes it (--token would add a warning line).
    const r = await runGrove(['--data-dir', join(scratch, 'impostor'), 'agent', '--server', cluster.apiUrl, '--node-name', 'victim'], { GROVE_TOKEN: forged });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('does not match the join token');
    expect([...(await cluster.nodesReady()).keys()]).not.toContain('victim');
  });

  it('joins over https and mqtts and runs a pod', async () => {
    await cluster.startAgent('tls-a', { token: await cluster.token() });
    await cluster.waitForNodesReady(['tls-a']);
    expect((await cluster.joinConfig('tls-a')).mqtt.url).toMatch(/^mqtts:\/\//);
    expect((await cluster.grove(['apply', '-f', await deployment(registry, scratch, 1)])).code).toBe(0);
    await cluster.waitForRunning('busybox', 1);
  });
});
