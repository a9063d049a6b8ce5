/**
 * Users, roles and kubeconfigs with the real kubectl against a real `grove server --tls`: every
 * kubeconfig comes from `grove kubeconfig` (the admin token, a user's token, a user's client
 * certificate). Writes go through paths that need no discovery (`--raw`), so this file tests
 * authentication and authorization alone.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runGrove } from '../support/grove-cli.js';
import { LoggedServer } from '../support/logged-server.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The HTTP status of a request without credentials. */
function requestStatus(port: number, ca: string, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describeWith(['kubectl'], 'kubectl with Grove users, roles and kubeconfigs', () => {
  let dir: string;
  let server: LoggedServer;
  const kubeconfigs: Record<string, string> = {};

  const grove = (...args: string[]) => runGrove(['--data-dir', join(dir, 'data'), ...args]);

  async function kubectl(as: string, ...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await run('kubectl', args, { env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfigs[as] }, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  async function kubeconfig(name: string, ...args: string[]): Promise<void> {
    const r = await grove('kubeconfig', ...args);
    expect(r.code, r.stderr).toBe(0);
    kubeconfigs[name] = join(dir, `kubeconfig-${name}`);
    await writeFile(kubeconfigs[name]!, r.stdout, { mode: 0o600 });
  }

  /** `kubectl auth can-i` answers on stdout; its discovery warnings go to stderr. */
  async function canI(as: string, ...args: string[]): Promise<string> {
    return (await kubectl(as, 'auth', 'can-i', ...args)).stdout.trim();
  }

  const configMap = (name: string) => JSON.stringify({ objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } }] });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-kubectl-auth-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start({ GROVE_TLS: 'true' });
    await kubeconfig('admin');
    for (const [name, role] of [['viewer', 'view'], ['editor', 'edit'], ['leaver', 'view']] as const) {
      const created = await grove('user', 'create', name, '--role', role);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(new RegExp(`^groveu1\\.${name}\\.[A-Za-z0-9_-]{43}\\n$`));
    }
    await kubeconfig('viewer', '--user', 'viewer');
    await kubeconfig('editor', '--user', 'editor', '--client-cert');
    await kubeconfig('leaver', '--user', 'leaver');
    await kubeconfig('leaver-cert', '--user', 'leaver', '--client-cert');
    await writeFile(join(dir, 'settings.json'), configMap('settings'));
    await writeFile(join(dir, 'sneaky.json'), configMap('sneaky'));
    await writeFile(join(dir, 'by-cert.json'), configMap('by-cert'));
    const applied = await kubectl('admin', 'create', '--raw', '/v1/apply', '-f', join(dir, 'settings.json'));
    expect(applied.code, applied.stderr).toBe(0);
    await writeFile(join(dir, 'secret.json'), JSON.stringify({ objects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'hunter2' } }] }));
    expect((await kubectl('admin', 'create', '--raw', '/v1/apply', '-f', join(dir, 'secret.json'))).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl auth whoami names the admin, a token user and a certificate user', async () => {
    expect((await kubectl('admin', 'auth', 'whoami')).stdout).toMatch(/Username\s+system:admin[\s\S]*Groups\s+\[system:masters system:authenticated\]/);
    expect((await kubectl('viewer', 'auth', 'whoami')).stdout).toMatch(/Username\s+viewer[\s\S]*grove\.io\/role\s+\[view\]/);
    expect((await kubectl('editor', 'auth', 'whoami')).stdout).toMatch(/Username\s+editor[\s\S]*grove\.io\/role\s+\[edit\]/);
  });

  it('kubectl auth can-i answers per role, as the requests themselves are answered', async () => {
    expect(await canI('admin', 'create', 'deployments')).toBe('yes');
    expect(await canI('admin', '*', '*')).toBe('yes');
    expect(await canI('viewer', 'create', 'deployments')).toMatch(/^no\b/);
    expect(await canI('viewer', 'list', 'pods')).toBe('yes');
    expect(await canI('viewer', 'get', 'secrets')).toMatch(/^no\b/);
    expect(await canI('viewer', 'create', 'pods', '--subresource=exec')).toMatch(/^no\b/);
    expect(await canI('viewer', 'get', 'pods', '--subresource=log')).toBe('yes');
    expect(await canI('editor', 'create', 'pods')).toBe('yes');
    expect(await canI('editor', 'create', 'pods', '--subresource=exec')).toBe('yes');
    expect(await canI('editor', 'patch', 'nodes')).toBe('yes');
    expect(await canI('editor', 'delete', 'nodes')).toMatch(/^no\b/);
    const list = await kubectl('viewer', 'auth', 'can-i', '--list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^configmaps\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list.stdout).not.toMatch(/^secrets/m);
  });

  it('a view user gets 403 on writes and on Secrets, naming user, verb and resource, and nothing changes', async () => {
    const create = await kubectl('viewer', 'create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', join(dir, 'sneaky.json'));
    expect(create.code).not.toBe(0);
    expect(create.stderr).toContain('Error from server (Forbidden): configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "default"');
    const apply = await kubectl('viewer', 'create', '--raw', '/v1/apply', '-f', join(dir, 'sneaky.json'));
    expect(apply.code).not.toBe(0);
    const del = await kubectl('viewer', 'delete', '--raw', '/api/v1/namespaces/default/configmaps/settings');
    expect(del.stderr).toContain('configmaps "settings" is forbidden: User "viewer" cannot delete resource "configmaps" in API group "" in the namespace "default"');
    const secret = await kubectl('viewer', 'get', '--raw', '/api/v1/namespaces/default/secrets/db');
    expect(secret.stderr).toContain('secrets "db" is forbidden: User "viewer" cannot get resource "secrets"');
    expect(secret.stdout).not.toContain('hunter2');
    const deploy = await kubectl('viewer', 'create', '--raw', '/apis/apps/v1/namespaces/default/deployments', '-f', join(dir, 'sneaky.json'));
    expect(deploy.stderr).toContain('User "viewer" cannot create resource "deployments" in API group "apps" in the namespace "default"');
    // Reads work, and the refused writes left the store as it was.
    const names = JSON.parse((await kubectl('viewer', 'get', '--raw', '/api/v1/namespaces/default/configmaps')).stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name);
    expect(names).toEqual(['settings']);
    expect((await grove('user', 'list')).stdout).toMatch(/^viewer\s+view\s/m);
    const tokens = await kubectl('viewer', 'get', '--raw', '/v1/tokens');
    expect(tokens.code).not.toBe(0);
  });

  it('the admin and an edit user (by client certificate) write; edit does not manage users or tokens', async () => {
    const applied = await kubectl('editor', 'create', '--raw', '/v1/apply', '-f', join(dir, 'by-cert.json'));
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse((await kubectl('editor', 'get', '--raw', '/api/v1/namespaces/default/configmaps/by-cert')).stdout).data).toEqual({ k: 'v' });
    expect((await kubectl('editor', 'get', '--raw', '/api/v1/namespaces/default/secrets/db')).code).toBe(0);
    const users = await kubectl('editor', 'get', '--raw', '/v1/users');
    expect(users.code).not.toBe(0);
    const del = await kubectl('admin', 'delete', '--raw', '/api/v1/namespaces/default/configmaps/by-cert');
    expect(del.code, del.stderr).toBe(0);
  });

  it('no or wrong credentials: 401 on every API path, and nothing is done', async () => {
    // kubectl itself never sends a request without credentials (it asks for a user name instead).
    const wrong = await kubectl('viewer', '--token', 'groveu1.viewer.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'get', '--raw', '/api/v1/namespaces');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('error: You must be logged in to the server (Unauthorized');
    const create = await kubectl('viewer', '--token', 'not-a-token-of-this-cluster', 'create', '--raw', '/v1/apply', '-f', join(dir, 'sneaky.json'));
    expect(create.stderr).toContain('Unauthorized');
    const { caCert } = JSON.parse(await readFile(join(dir, 'data', 'client.json'), 'utf8')) as { caCert: string };
    for (const path of ['/api/v1/namespaces/default/configmaps', '/apis/apps/v1/nosuch', '/v1/apply', '/v1/users', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']) {
      expect(await requestStatus(server.apiPort, caCert, 'POST', path, configMap('sneaky')), path).toBe(401);
      expect(await requestStatus(server.apiPort, caCert, 'GET', path), path).toBe(401);
    }
    const names = JSON.parse((await kubectl('admin', 'get', '--raw', '/api/v1/namespaces/default/configmaps')).stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name);
    expect(names).toEqual(['settings']);
  });

  it('a deleted user gets 401 at once, by token and by client certificate', async () => {
    expect((await kubectl('leaver', 'auth', 'whoami')).code).toBe(0);
    expect((await kubectl('leaver-cert', 'auth', 'whoami')).code).toBe(0);
    const deleted = await grove('user', 'delete', 'leaver');
    expect(deleted.code, deleted.stderr).toBe(0);
    for (const as of ['leaver', 'leaver-cert']) {
      const r = await kubectl(as, 'get', '--raw', '/api/v1/namespaces');
      expect(r.code, as).not.toBe(0);
      expect(r.stderr, as).toContain('Unauthorized');
    }
    // A user of the same name made again does not bring the old credentials back.
    expect((await grove('user', 'create', 'leaver', '--role', 'admin')).code).toBe(0);
    expect((await kubectl('leaver-cert', 'auth', 'whoami')).stderr).toContain('Unauthorized');
    expect((await kubectl('leaver', 'auth', 'whoami')).stderr).toContain('Unauthorized');
  });
});
