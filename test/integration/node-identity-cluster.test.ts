/**
 * Node identity with real `grove server` and `grove agent` processes (issue 12, defects 2 and
 * 8): the token off argv (--token-file, $GROVE_TOKEN; `ps` shows no token), a live node's name
 * refused to another machine with a valid token but accepted from the node itself, `grove node
 * delete` (its broker login refused, the name free again), `grove token create --uses 1 | list
 * | revoke` and `grove token rotate-admin`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { describeWith } from '../support/prereq.js';

describeWith(['root', 'runc', 'shim'], 'node identity (server + agents as processes)', () => {
  let cluster: TestCluster;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-identity-'));
    cluster = await TestCluster.create();
    await cluster.startServer();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const nodes = async () => [...(await cluster.nodesReady()).keys()].sort();
  const secretOf = (token: string) => token.split('.')[3]!;
  /** Another machine trying the name: its own data dir, a valid token in a file. */
  const joinFromElsewhere = async (name: string, token: string) => {
    const file = join(scratch, `token-${name}-${Date.now()}`);
    await writeFile(file, token + '\n', { mode: 0o600 });
    return runGrove(['--data-dir', await mkdtemp(join(scratch, 'elsewhere-')), 'agent', '--node-name', name, '--server', cluster.apiUrl, '--token-file', file], { GROVE_HEARTBEAT: '1s' });
  };

  it('agents join with --token-file and with $GROVE_TOKEN; neither token shows in ps', async () => {
    const fileToken = await cluster.token();
    const envToken = await cluster.token();
    const file = join(scratch, 'join-token');
    await writeFile(file, fileToken + '\n', { mode: 0o600 });
    await cluster.startAgent('id-file', { tokenFile: file });
    await cluster.startAgent('id-env', { tokenEnv: envToken });
    await cluster.waitForNodesReady(['id-file', 'id-env']);
    const ps = (await promisify(execFile)('ps', ['-eo', 'pid,args'], { maxBuffer: 16 * 1024 * 1024 })).stdout;
    for (const name of ['id-file', 'id-env']) {
      const pid = cluster.agents.get(name)!.proc!.pid!;
      expect(ps).toMatch(new RegExp(`^\\s*${pid}\\s.*agent --node-name ${name}`, 'm'));
      expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(secretOf(fileToken));
    }
    expect(ps).not.toContain(secretOf(fileToken));
    expect(ps).not.toContain(secretOf(envToken));
    // --token still works, with a warning (the rejoin below uses it).
  });

  it("refuses a live node's name to another machine with a valid token; the node itself rejoins with its credential", async () => {
    const token = await cluster.token();
    const impostor = await joinFromElsewhere('id-file', token);
    expect(impostor.code).not.toBe(0);
    expect(impostor.stderr).toContain('grove: join refused: node id-file already exists: delete it first (grove node delete id-file) or join with its current credential');
    expect(cluster.serverLog).toMatch(/"msg":"join refused"/);
    expect(cluster.serverLog).not.toContain(secretOf(token));

    const before = (await cluster.joinConfig('id-file')).mqtt.password;
    await cluster.killAgent('id-file', 'SIGTERM');
    await cluster.startAgent('id-file', { token });
    expect(cluster.agents.get('id-file')!.log).toContain('joined cluster default as node id-file');
    expect(cluster.agents.get('id-file')!.log).toContain('--token shows the join token');
    expect((await cluster.joinConfig('id-file')).mqtt.password).not.toBe(before);
    await cluster.waitForNodesReady(['id-file']);
  }, 90_000);

  it("grove node delete: the node's broker login is refused and its name joins again only with a token", async () => {
    const creds = (await cluster.joinConfig('id-env')).mqtt;
    const deleted = await cluster.grove(['node', 'delete', 'id-env']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout.trim()).toBe('node/id-env deleted');
    expect(await nodes()).not.toContain('id-env');
    const refused = await mqtt.connectAsync(creds.url, { username: creds.username, password: creds.password, reconnectPeriod: 0, connectTimeout: 5000 }).then(
      async (client) => {
        await client.endAsync(true);
        return 'accepted';
      },
      (err: { code?: number }) => err.code,
    );
    expect(refused).toBe(4);
    // Its open session was ended at once (authentication runs only at CONNECT): its agent
    // reconnects, is refused, and keeps being refused; it never comes back by itself.
    await eventually(async () => /Bad username or password/.test(cluster.agents.get('id-env')!.log), 15_000, 'the deleted agent refused on reconnect');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await nodes()).not.toContain('id-env');
    await cluster.killAgent('id-env', 'SIGTERM');
  }, 60_000);

  it('a --uses 1 token joins once; list shows what is left; a revoked token is refused', async () => {
    const created = await cluster.grove(['token', 'create', '--uses', '1', '--ttl', '10m']);
    expect(created.code, created.stderr).toBe(0);
    const once = created.stdout.trim();
    const id = once.split('.')[2]!;
    expect(created.stderr).toMatch(new RegExp(`^token ${id}: valid until \\S+ for 1 join$`, 'm'));
    await cluster.startAgent('id-once', { tokenEnv: once });
    const second = await joinFromElsewhere('id-twice', once);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('grove: join token rejected by the server: join token used up');

    const list = await cluster.grove(['token', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+.*\\s0$`, 'm'));
    expect(list.stdout).not.toContain(secretOf(once));
    const asJson = await cluster.json<{ id: string; usesLeft: number | null }[]>(['token', 'list']);
    expect(asJson.find((t) => t.id === id)?.usesLeft).toBe(0);

    const other = await cluster.token();
    const revoked = await cluster.grove(['token', 'revoke', other.split('.')[2]!]);
    expect(revoked.stdout.trim()).toBe(`token/${other.split('.')[2]} revoked`);
    const refused = await joinFromElsewhere('id-revoked', other);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('join token not recognised');
    const unknown = await cluster.grove(['token', 'revoke', 'ffffffff']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe('grove: join token ffffffff not found');
  }, 90_000);

  it('a deleted node joins again under its name with a token', async () => {
    // Its saved join is dead: --token joins again (the old credential it presents is moot).
    await cluster.startAgent('id-env', { token: await cluster.token() });
    await eventually(async () => (await nodes()).includes('id-env'), 20_000, 'id-env back');
    await cluster.waitForNodesReady(['id-env']);
  }, 60_000);

  it('grove token rotate-admin: the old admin token stops working at once, the new one is in admin-token and client.json', async () => {
    const old = (JSON.parse(await readFile(join(cluster.serverDir, 'client.json'), 'utf8')) as { token: string }).token;
    const r = await cluster.grove(['token', 'rotate-admin']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('admin token rotated: the old one no longer works');
    const fresh = (JSON.parse(await readFile(join(cluster.serverDir, 'client.json'), 'utf8')) as { token: string }).token;
    expect(fresh).not.toBe(old);
    expect((await readFile(join(cluster.serverDir, 'server', 'admin-token'), 'utf8')).trim()).toBe(fresh);
    expect((await fetch(`${cluster.apiUrl}/api/v1/nodes`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
    expect((await cluster.grove(['get', 'nodes'])).code).toBe(0);
    // A restarted server keeps the new token.
    await cluster.killServer('SIGTERM');
    await cluster.startServer();
    expect((await fetch(`${cluster.apiUrl}/api/v1/nodes`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
  }, 90_000);
});
