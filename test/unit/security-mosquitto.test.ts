import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import {
  mosquittoPasswordHash,
  reloadMosquitto,
  renderMosquittoAcl,
  renderMosquittoConfig,
  writeMosquittoFiles,
} from '../../src/server/security/mosquitto.js';

function hasMosquittoPasswd(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v mosquitto_passwd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('mosquitto files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-mosq-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes in the $7$ PBKDF2-SHA512 format', () => {
    const salt = Buffer.alloc(12, 1);
    const hash = mosquittoPasswordHash('secret', salt);
    expect(hash).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(hash.split('$')[3]).toBe(salt.toString('base64'));
    expect(mosquittoPasswordHash('secret', salt)).toBe(hash);
    expect(mosquittoPasswordHash('secret')).not.toBe(mosquittoPasswordHash('secret'));
  });

  it.runIf(hasMosquittoPasswd())('produces exactly what mosquitto_passwd produces for the same salt', async () => {
    const file = join(dir, 'pw');
    execFileSync('mosquitto_passwd', ['-b', '-c', file, 'node.pi-1', 'p@ss-word']);
    const line = (await readFile(file, 'utf8')).trim();
    const [, hash] = line.split(/:(.*)/s);
    const salt = Buffer.from(hash!.split('$')[3]!, 'base64');
    expect(`node.pi-1:${mosquittoPasswordHash('p@ss-word', salt)}`).toBe(line);
  });

  it('renders an ACL with exact per-node topics and the server cluster wildcard', () => {
    const acl = renderMosquittoAcl('home', ['node.pi-10', 'grove-server', 'node.pi-1']);
    expect(acl).toContain(
      [
        'user node.pi-1',
        'topic read grove/v1/home/nodes/pi-1/target',
        'topic read grove/v1/home/nodes/pi-1/rpc/req',
        'topic read grove/v1/home/nodes/pi-1/config',
        'topic write grove/v1/home/nodes/pi-1/status',
        'topic write grove/v1/home/nodes/pi-1/presence',
        'topic write grove/v1/home/nodes/pi-1/rpc/res',
        'topic read grove/v1/home/network/#',
      ].join('\n'),
    );
    expect(acl).toContain('user grove-server\ntopic readwrite grove/v1/home/#');
    expect(acl).not.toMatch(/^pattern/m);
    // Wildcards: the server's cluster root, and the network view every node reads (never writes).
    expect(acl.match(/^topic .*[+#]/gm)).toEqual(['topic readwrite grove/v1/home/#', 'topic read grove/v1/home/network/#', 'topic read grove/v1/home/network/#']);
  });

  it.each(['node:pi-1', 'admin', 'node.pi-1\ntopic readwrite #', 'node.PI'])('refuses user name %j', (username) => {
    expect(() => renderMosquittoAcl('home', [username])).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('renders a config with no anonymous access, no persistence and a packet cap', () => {
    const conf = renderMosquittoConfig({
      passwordFile: '/etc/grove/passwd',
      aclFile: '/etc/grove/acl',
      listener: { host: '0.0.0.0', port: 8883 },
      tls: { certFile: '/etc/grove/server.crt', keyFile: '/etc/grove/server.key' },
      maxPacketBytes: 2097152,
    });
    for (const line of [
      'allow_anonymous false',
      'password_file /etc/grove/passwd',
      'acl_file /etc/grove/acl',
      'persistence false',
      'max_packet_size 2097152',
      'listener 8883 0.0.0.0',
      'use_username_as_clientid true',
      'certfile /etc/grove/server.crt',
      'keyfile /etc/grove/server.key',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(() => renderMosquittoConfig({ passwordFile: 'a', aclFile: 'b', listener: { host: 'x y', port: 1 }, maxPacketBytes: 1 })).toThrow();
    expect(() => renderMosquittoConfig({ passwordFile: 'a\nb', aclFile: 'b', listener: { host: 'h', port: 1 }, maxPacketBytes: 1 })).toThrow();
    expect(() => renderMosquittoConfig({ passwordFile: 'a', aclFile: 'b', listener: { host: 'h', port: 0 }, maxPacketBytes: 1 })).toThrow();
  });

  it('writes the files with safe modes, keeps hashes of users listed without a password and drops removed users', async () => {
    const opts = { cluster: 'home', listener: { host: '127.0.0.1', port: 1883 } };
    const first = await writeMosquittoFiles(dir, {
      ...opts,
      users: [
        { username: 'grove-server', password: 's' },
        { username: 'node.a', password: 'pa' },
        { username: 'node.b', password: 'pb' },
      ],
      tls: { certPem: 'CERT', keyPem: 'KEY' },
    });
    expect((await stat(first.passwordFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'server.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(first.configPath, 'utf8')).toContain(`password_file ${first.passwordFile}`);
    const before = await readFile(first.passwordFile, 'utf8');
    const lineOf = (text: string, user: string) => text.split('\n').find((l) => l.startsWith(`${user}:`));

    const second = await writeMosquittoFiles(dir, {
      ...opts,
      users: [{ username: 'grove-server' }, { username: 'node.a' }, { username: 'node.c', password: 'pc' }, { username: 'node.ghost' }],
    });
    const after = await readFile(second.passwordFile, 'utf8');
    expect(lineOf(after, 'grove-server')).toBe(lineOf(before, 'grove-server'));
    expect(lineOf(after, 'node.a')).toBe(lineOf(before, 'node.a'));
    expect(lineOf(after, 'node.b')).toBeUndefined();
    expect(lineOf(after, 'node.c')).toMatch(/^node\.c:\$7\$/);
    expect(second.missingPasswords).toEqual(['node.ghost']);
    const acl = await readFile(second.aclFile, 'utf8');
    expect(acl).toContain('user node.c');
    expect(acl).not.toContain('user node.b');
    expect(await readFile(second.configPath, 'utf8')).not.toContain('certfile');
  });

  it('refuses a user listed twice', async () => {
    await expect(
      writeMosquittoFiles(dir, { cluster: 'home', listener: { host: '127.0.0.1', port: 1883 }, users: [{ username: 'node.a' }, { username: 'node.a' }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it('sends SIGHUP to the pid or the pid file, with typed errors otherwise', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const pidFile = join(dir, 'm.pid');
    await writeFile(pidFile, `${child.pid}\n`);
    // `sleep` never handles SIGHUP: no waiting for a handler here.
    expect(await reloadMosquitto(pidFile, { handlerWaitMs: 0 })).toBe(child.pid);
    expect(await exited).toBe('SIGHUP');
    await expect(reloadMosquitto(join(dir, 'missing.pid'))).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
    await writeFile(pidFile, 'garbage');
    await expect(reloadMosquitto(pidFile)).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
    await expect(reloadMosquitto(1)).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
  });

  it('waits until the process handles SIGHUP before sending it (Mosquitto installs its handler late)', async () => {
    // Like Mosquitto loading a large ACL: the handler comes after 500 ms; a SIGHUP before would kill it.
    const child = spawn(process.execPath, ['-e', "setTimeout(() => process.on('SIGHUP', () => { console.log('reloaded'); process.exit(0); }), 500); setTimeout(() => {}, 30000);"], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    await new Promise((r) => setTimeout(r, 50));
    expect(await reloadMosquitto(child.pid!)).toBe(child.pid);
    expect(await exited).toEqual([0, null]);
    expect(out).toContain('reloaded');
  });
});
