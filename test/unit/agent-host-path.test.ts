import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHostPathRoots, prepareHostPath } from '../../agent/src/agent/volumes/host-path.js';

let dir = '';
let server: Server | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-host-path-'));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function unixSocket(path: string): Promise<void> {
  server = createServer();
  await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(path, resolve));
}

describe('hostPath type ComposeBind (compose binds, docker rules)', () => {
  it('takes an existing file, socket, directory or device as it is and creates nothing', async () => {
    const file = join(dir, 'Caddyfile');
    await writeFile(file, 'example.com\n');
    const sock = join(dir, 'docker.sock');
    await unixSocket(sock);
    await mkdir(join(dir, 'conf'));
    for (const path of [file, sock, join(dir, 'conf'), '/dev/null']) await prepareHostPath('bind-0', path, 'ComposeBind');
    expect((await stat(file)).isFile()).toBe(true);
    expect((await stat(sock)).isSocket()).toBe(true);
  });

  it('creates a missing source as a directory (parents too)', async () => {
    const missing = join(dir, 'site', 'www');
    await prepareHostPath('bind-0', missing, 'ComposeBind');
    expect((await stat(missing)).isDirectory()).toBe(true);
  });

  it('refuses a dangling symlink rather than creating where it points', async () => {
    await symlink(join(dir, 'nowhere'), join(dir, 'link'));
    await expect(prepareHostPath('bind-0', join(dir, 'link'), 'ComposeBind')).rejects.toThrow('volume "bind-0": host path "' + join(dir, 'link') + '" is a dangling symlink');
  });
});

describe('Kubernetes hostPath types keep their meaning', () => {
  it('DirectoryOrCreate refuses an existing file, File refuses a socket, untyped needs the path', async () => {
    const file = join(dir, 'f');
    await writeFile(file, 'x');
    const sock = join(dir, 's');
    await unixSocket(sock);
    await expect(prepareHostPath('v', file, 'DirectoryOrCreate')).rejects.toThrow(`host path "${file}" exists and is not a directory (type DirectoryOrCreate)`);
    await expect(prepareHostPath('v', sock, 'File')).rejects.toThrow(`host path "${sock}" is not a file (type File)`);
    await prepareHostPath('v', sock, 'Socket');
    await expect(prepareHostPath('v', join(dir, 'none'), undefined)).rejects.toThrow('does not exist on this node');
  });
});

describe('the node\'s hostPath roots', () => {
  it('follow a symlinked parent of a path still to be made (a compose bind of a missing directory)', async () => {
    const root = join(dir, 'root');
    await mkdir(join(dir, 'outside'), { recursive: true });
    await mkdir(root);
    await symlink(join(dir, 'outside'), join(root, 'link'));
    await checkHostPathRoots('bind-0', join(root, 'fresh', 'dir'), [root]);
    await expect(checkHostPathRoots('bind-0', join(root, 'link', 'new'), [root])).rejects.toThrow(`leads to "${join(dir, 'outside', 'new')}", outside the allowed roots`);
  });
});
