/**
 * Storage durability end to end (issue 12: defects 1, 7 and the store parts of 9), with real
 * `grove server` and `grove agent` processes:
 * - a full disk (a small loop-mounted ext4 of the test's own), freed again: the commits
 *   acknowledged afterwards survive kill -9, revisions only grow, and the daemon (whose log file
 *   shares the full filesystem) keeps running and says how many log lines it dropped;
 * - a truncated LevelDB log: the server refuses to start naming the loss and fsck, and after
 *   `grove server fsck --accept-loss` starts with a revision above the recorded one;
 * - a corrupt ConfigMap and a Secret whose seal no longer opens: quarantined at start and
 *   reported, the names usable again, listed by `grove server fsck`.
 */
import { mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Level } from 'level';
import { createWireDecoder, createWireEncoder } from '../../src/core/wire.js';
import { replayLog } from '../../src/store/leveldb-log.js';
import { LevelStore } from '../../src/store/level-store.js';
import { readMark } from '../../src/store/revision-mark.js';
import { TestCluster } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { LoggedServer } from '../support/logged-server.js';
import { createLoopFs, type LoopFs } from '../support/loop-fs.js';
import { describeWith } from '../support/prereq.js';

const serverDb = (dataDir: string) => join(dataDir, 'server', 'db');
const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const secret = (name: string, stringData: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData });

async function lastLog(dbDir: string): Promise<string> {
  const logs = (await readdir(dbDir)).filter((n) => n.endsWith('.log')).sort();
  return join(dbDir, logs.at(-1)!);
}

describeWith(['root', 'loopfs'], 'server store on a full disk', () => {
  let fs: LoopFs | undefined;
  let server: LoggedServer | undefined;

  beforeAll(async () => {
    fs = await createLoopFs(32);
    server = await LoggedServer.create(join(fs.mountpoint, 'data'), join(fs.mountpoint, 'server.log'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fs?.destroy();
  });

  it('keeps every apply acknowledged after the disk was full across kill -9, and its revisions grow', async () => {
    const s = server!;
    await s.start();
    expect((await s.applyConfigMap('base', { n: '0' })).status).toBe(200);

    fs!.fill();
    const failures: { status: number; message: string }[] = [];
    for (let i = 0; i < 60 && failures.length < 10; i++) {
      const r = await s.applyConfigMap(`full-${i}`, { pad: 'x'.repeat(4000) });
      if (r.status !== 200) failures.push({ status: r.status, message: r.body.message ?? JSON.stringify(r.body) });
    }
    expect(failures).toHaveLength(10);
    // A Kubernetes Status naming the full disk, with the API's code for it (507).
    for (const f of failures) expect(f).toEqual({ status: 507, message: expect.stringMatching(/no space left on device/) });
    // Its log file is on the same full filesystem: the server must still be there.
    expect(s.proc!.exitCode).toBeNull();

    await fs!.free();
    const revisions: number[] = [];
    // Big enough that the five cross a 32 KiB block of LevelDB's log: behind a torn write, the
    // reader loses every block from there on.
    const pad = 'y'.repeat(8000);
    for (let i = 1; i <= 5; i++) {
      const r = await s.applyConfigMap(`after-${i}`, { i: String(i), pad });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      revisions.push(r.body.revision);
    }
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(5);

    await s.stop('SIGKILL');
    await s.start();
    const cms = await s.call<{ items: { metadata: { name: string }; data: Record<string, string> }[] }>('GET', '/api/v1/namespaces/default/configmaps');
    const byName = new Map(cms.body.items.map((c) => [c.metadata.name, c.data]));
    for (let i = 1; i <= 5; i++) expect(byName.get(`after-${i}`), `after-${i}`).toEqual({ i: String(i), pad });
    const next = await s.applyConfigMap('next', { n: '1' });
    expect(next.status).toBe(200);
    expect(next.body.revision).toBeGreaterThan(Math.max(...revisions));

    // The log lines lost while the disk was full are counted, not silently gone.
    expect(await readFile(s.logFile, 'utf8')).toMatch(/"dropped":\d+,"msg":"\d+ log lines? (was|were) dropped: writing the log failed \(no space left on device\)"/);
  });
});

describeWith(['root'], 'server store: lost commits and corrupt entries', () => {
  let dir: string;
  let server: LoggedServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-durable-server-'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on a truncated log, naming the loss and fsck; after fsck --accept-loss revisions go on above the recorded one', async () => {
    const dataDir = join(dir, 'truncated');
    server = await LoggedServer.create(dataDir, join(dir, 'truncated.log'));
    await server.start();
    for (let i = 1; i <= 3; i++) expect((await server.applyConfigMap(`cm-${i}`, { i: String(i) })).status).toBe(200);
    await server.stop('SIGTERM');
    const recorded = (await readMark(`${serverDb(dataDir)}.revision`)).record!.revision;
    const log = await lastLog(serverDb(dataDir));
    const { records } = replayLog(await readFile(log));
    await truncate(log, records.at(-2)!.offset);

    const refused = await server.start().then(
      () => new Error('the server started'),
      (e: unknown) => e as Error,
    );
    expect(server.proc!.exitCode).not.toBe(0);
    expect(refused.message).toMatch(/is missing commits: LevelDB holds revision \d+ but revision \d+ was recorded/);
    expect(refused.message).toContain('grove server fsck --accept-loss');

    const check = await runGrove(['--data-dir', dataDir, 'server', 'fsck']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^LOSS: store at .* is missing commits/m);
    const accept = await runGrove(['--data-dir', dataDir, 'server', 'fsck', '--accept-loss']);
    expect(accept.code, accept.stderr).toBe(0);
    expect(accept.stdout).toContain(`store revision moved to ${recorded + 1}`);

    await server.start();
    const next = await server.applyConfigMap('after-loss', { n: '1' });
    expect(next.status).toBe(200);
    expect(next.body.revision).toBeGreaterThan(recorded);
    await server.stop('SIGTERM');
  });

  it('quarantines a corrupt ConfigMap and a Secret that no longer opens at start, reports them, and the names work again', async () => {
    const dataDir = join(dir, 'corrupt');
    server = await LoggedServer.create(dataDir, join(dir, 'corrupt.log'));
    await server.start();
    const apply = await server.call('POST', '/v1/apply', {
      objects: [configMap('ok', { a: '1' }), configMap('c1', { a: '1' }), secret('s1', { password: 'hunter2' })],
    });
    expect(apply.status, JSON.stringify(apply.body)).toBe(200);
    await server.stop('SIGTERM');

    // Damage as a worn card would: garbage for the ConfigMap, one altered byte in the Secret's seal.
    const raw = new Level<string, Uint8Array>(serverDb(dataDir), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.open();
    await raw.put('configmaps/default/c1', Uint8Array.from([0xa5, 0x01, 0xff]));
    const record = createWireDecoder().decode((await raw.get('secrets/default/s1'))!) as { value: { ciphertext: string }; revision: number };
    const c = record.value.ciphertext;
    record.value.ciphertext = (c[0] === 'A' ? 'B' : 'A') + c.slice(1);
    await raw.put('secrets/default/s1', createWireEncoder().encode(record));
    await raw.close();

    const dry = await runGrove(['--data-dir', dataDir, 'server', 'fsck', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/^corrupt: configmaps\/default\/c1: undecodable CBOR/m);
    expect(dry.stdout).toMatch(/^corrupt: secrets\/default\/s1: sealed with the secrets key in use but does not open/m);
    expect(dry.stdout).toMatch(/, 2 corrupt \(dry run: nothing changed\), 0 quarantined before$/m);
    expect(dry.stdout).not.toContain('hunter2');
    expect(dry.stdout).not.toContain(Buffer.from('hunter2').toString('base64'));

    await server.start();
    const log = await server.log();
    expect(log).toContain('2 corrupt store entries quarantined (configmaps/default/c1, secrets/default/s1;');
    expect(log).toMatch(/corrupt store entry configmaps\/default\/c1 quarantined: undecodable CBOR/);
    expect(log).toMatch(/corrupt store entry secrets\/default\/s1 quarantined: sealed with the secrets key in use/);
    const names = async (plural: string) => (await server.call<{ items: { metadata: { name: string } }[] }>('GET', `/api/v1/namespaces/default/${plural}`)).body.items.map((r) => r.metadata.name);
    expect(await names('configmaps')).toEqual(['ok']);
    expect(await names('secrets')).toEqual([]);
    const again = await server.call('POST', '/v1/apply', { objects: [configMap('c1', { a: '2' }), secret('s1', { password: 'new' })] });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(await server.call('GET', '/api/v1/namespaces/default/secrets/s1')).toMatchObject({ status: 200, body: { data: { password: Buffer.from('new').toString('base64') } } });
    expect(await server.call('GET', '/api/v1/namespaces/default/configmaps/c1')).toMatchObject({ status: 200, body: { data: { a: '2' } } });
    await server.stop('SIGTERM');

    const after = await runGrove(['--data-dir', dataDir, 'server', 'fsck', '--dry-run']);
    expect(after.code, after.stdout).toBe(0);
    expect(after.stdout).toMatch(/^quarantined earlier: configmaps\/default\/c1: undecodable CBOR .*quarantined at revision \d+/m);
    expect(after.stdout).toMatch(/^quarantined earlier: secrets\/default\/s1: /m);
    expect(after.stdout).toMatch(/no corrupt entries, 2 quarantined before/);
  });
});

describeWith(['root', 'loopfs', 'runc', 'shim'], 'agent store on a full disk', () => {
  let cluster: TestCluster | undefined;
  let fs: LoopFs | undefined;
  const NODE = 'full-a';

  beforeAll(async () => {
    cluster = await TestCluster.create();
    await cluster.startServer();
    // Only the agent's store directory (and its join record) sits on the small filesystem.
    fs = await createLoopFs(32, join(await cluster.createAgentDir(NODE), 'agent'));
    await cluster.startAgent(NODE, { token: await cluster.token() });
    await cluster.waitForNodesReady([NODE]);
  });
  afterAll(async () => {
    await cluster?.killAgent(NODE).catch(() => undefined);
    await fs?.destroy();
    await cluster?.destroy();
  });

  /** A one-replica Deployment on the node: each one changes the node's target (and makes it 3 KB larger). */
  const applyApp = async (i: number): Promise<void> => {
    const c = cluster!;
    const { token } = JSON.parse(await readFile(join(c.serverDir, 'client.json'), 'utf8')) as { token: string };
    const labels = { app: `app-${i}` };
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${i}` },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { hostNetwork: true, containers: [{ name: 'main', image: 'test/absent:1', imagePullPolicy: 'Never', env: [{ name: 'PAD', value: 'p'.repeat(3000) }] }] } },
      },
    };
    const res = await fetch(`${c.apiUrl}/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ objects: [deployment] }) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  /** The node's target revision and the one it applied, from its TargetApplied condition. */
  const node = async (): Promise<{ targetRevision?: number; observedRevision?: number }> => {
    const n = await cluster!.apiGet<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>(`/api/v1/nodes/${NODE}`);
    const c = n.status?.conditions?.find((x) => x.type === 'TargetApplied');
    const m = /^target revision (\d+)(?: applied|, applied (\d+))$/.exec(c?.message ?? '');
    if (!c || !m) return {};
    const targetRevision = Number(m[1]);
    return { targetRevision, observedRevision: c.status === 'True' ? targetRevision : Number(m[2]) };
  };
  const targetAbove = (rev: number) => eventually(async () => ((await node()).targetRevision ?? 0) > rev && (await node()).targetRevision!, 20_000, 'a new target');
  const caughtUp = () =>
    eventually(async () => {
      const n = await node();
      return n.targetRevision !== undefined && n.observedRevision === n.targetRevision && n.targetRevision;
    }, 60_000, 'agent caught up with its target');

  it('keeps the targets applied after its disk was full across kill -9, never restarting at a lower revision', async () => {
    await applyApp(0);
    let target = await caughtUp();

    fs!.fill();
    for (let i = 1; i <= 10 && !cluster!.agents.get(NODE)!.log.includes('could not persist target'); i++) {
      await applyApp(i);
      target = await targetAbove(target);
      await new Promise((r) => setTimeout(r, 500));
    }
    const persistFailure = cluster!.agents.get(NODE)!.log.split('\n').find((l) => l.includes('could not persist target'));
    expect(persistFailure).toContain('no space left on device');

    await fs!.free();
    for (let i = 11; i <= 15; i++) {
      await applyApp(i);
      target = await targetAbove(target);
    }
    const applied = await caughtUp();
    expect(applied).toBe(target);

    await cluster!.killAgent(NODE);
    const store = new LevelStore({ path: join(cluster!.agentDir(NODE), 'agent', 'db') });
    await store.open();
    try {
      expect((await store.get<number>('applied-revision'))?.value).toBe(applied);
      expect((await store.get<{ revision: number }>('target'))?.value.revision).toBe(applied);
    } finally {
      await store.close();
    }
    await cluster!.startAgent(NODE);
    await cluster!.waitForNodesReady([NODE]);
    expect(await caughtUp()).toBe(applied);
  });
});
