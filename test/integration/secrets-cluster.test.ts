/**
 * Secrets with the real programs: `grove server` (LevelDB on disk) and `grove agent` processes.
 * A plaintext Secret left by an older version (0.1's record) is migrated, sealed at start and its
 * plaintext leaves the LevelDB files; new Secrets never reach the disk, the logs, or any output
 * without --show-values (with it: the Secret object as stored, data in base64); a node that
 * joined before config keys gets its key from the server.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LevelStore } from '../../src/store/level-store.js';
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { describeWith } from '../support/prereq.js';

const LEGACY = `legacy-${randomBytes(9).toString('hex')}`;
const VALUE = `fresh-${randomBytes(9).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every file under `dir` (LevelDB tables and logs included), as one buffer per file. */
async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

function holding(files: { path: string; bytes: Buffer }[], needle: string): string[] {
  return files.filter((f) => f.bytes.includes(Buffer.from(needle))).map((f) => f.path);
}

describeWith(['root', 'runc', 'shim'], 'Secrets with grove server and grove agent processes', () => {
  let cluster: TestCluster;

  /** The Secret's data as `get -o json --show-values` prints it: the stored object's, in base64. */
  async function shownData(name: string): Promise<Record<string, string>> {
    const r = await cluster.grove(['get', 'secret', name, '-o', 'json', '--show-values']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
  }

  beforeAll(async () => {
    // Debug level: the no-leak check reads every line the programs can write.
    cluster = await TestCluster.create({ env: { GROVE_LOG_LEVEL: 'debug' } });
    // What an older Grove left behind: a Secret stored in plaintext.
    const old = new LevelStore({ path: join(cluster.serverDir, 'server', 'db') });
    await old.open();
    await old.commit([{ type: 'put', key: 'secrets/legacy', value: { kind: 'Secret', meta: { name: 'legacy', labels: {}, annotations: {} }, data: { password: LEGACY } } }]);
    await old.close();
    expect(holding(await filesUnder(join(cluster.serverDir, 'server', 'db')), LEGACY)).not.toEqual([]);
    await cluster.startServer();
    await cluster.startAgent('node-a', { token: await cluster.token() });
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('creates the key 0600, seals the old plaintext Secret, and hands the node its own key', async () => {
    const keyFile = join(cluster.serverDir, 'server', 'secrets.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(keyFile)).length).toBe(32);
    expect(cluster.serverLog).toContain('plaintext Secrets encrypted at rest');
    expect(holding(await filesUnder(join(cluster.serverDir, 'server', 'db')), LEGACY)).toEqual([]);
    expect(await shownData('legacy')).toEqual({ password: b64(LEGACY) });
    const joinFile = join(cluster.agentDir('node-a'), 'agent', 'join.json');
    expect((await stat(joinFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(joinFile, 'utf8')).configKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  }, 60_000);

  it('a new Secret is on no disk, in no log and no output unless --show-values', async () => {
    const manifest = join(cluster.serverDir, 'secret.yaml');
    await writeFile(manifest, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: kubernetes.io/basic-auth\nstringData:\n  username: admin\n  password: ${VALUE}\n`);
    const applied = await cluster.grove(['apply', '-f', manifest]);
    expect(applied.code).toBe(0);
    const outputs = await Promise.all([
      cluster.grove(['get', 'secrets']),
      cluster.grove(['get', 'secret', 'db', '-o', 'yaml']),
      cluster.grove(['get', 'secret', 'db', '-o', 'json']),
      cluster.grove(['describe', 'secret', 'db']),
      cluster.grove(['apply', '-f', manifest]),
    ]);
    for (const o of outputs) expect(o.code, o.stderr).toBe(0);
    const shown = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(shown).toMatch(/db\s+kubernetes.io\/basic-auth\s+2/);
    // describe: keys and sizes (kubectl's layout); -o yaml|json: each key's size in bytes.
    expect(outputs[3]!.stdout).toMatch(new RegExp(`^password:\\s+${VALUE.length} bytes$`, 'm'));
    expect(outputs[1]!.stdout).toMatch(new RegExp(`^  password: ${VALUE.length}$`, 'm'));
    expect((JSON.parse(outputs[2]!.stdout) as { data: unknown }).data).toEqual({ username: 5, password: VALUE.length });
    // A bad Secret: the error names the field, not the value.
    await writeFile(manifest, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  password: ${VALUE}!\n`);
    const bad = await cluster.grove(['apply', '-f', manifest]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('is not valid base64');

    const disk = [...(await filesUnder(cluster.serverDir)), ...(await filesUnder(cluster.agentDir('node-a')))];
    const logs = [cluster.serverLog, cluster.agents.get('node-a')!.log, shown, bad.stdout + bad.stderr].join('\n');
    for (const needle of [VALUE, b64(VALUE)]) {
      expect(holding(disk.filter((f) => !f.path.endsWith('secret.yaml')), needle)).toEqual([]);
      expect(logs).not.toContain(needle);
    }
    // --show-values: the object as stored, data in base64 (it applies back).
    const revealed = await cluster.grove(['get', 'secret', 'db', '-o', 'yaml', '--show-values']);
    expect(revealed.stdout).toContain(`password: ${b64(VALUE)}`);
    expect(await shownData('db')).toEqual({ username: b64('admin'), password: b64(VALUE) });
  }, 120_000);

  it('a node that joined before config keys fetches its key with its credentials', async () => {
    await cluster.killAgent('node-a', 'SIGTERM');
    const joinFile = join(cluster.agentDir('node-a'), 'agent', 'join.json');
    const joined = JSON.parse(await readFile(joinFile, 'utf8')) as Record<string, unknown>;
    const key = joined.configKey;
    delete joined.configKey;
    await writeFile(joinFile, JSON.stringify(joined, null, 2));
    await chmod(joinFile, 0o600);
    await cluster.startAgent('node-a');
    const fetched = await eventually(async () => (JSON.parse(await readFile(joinFile, 'utf8')) as { configKey?: string }).configKey, 30_000, 'config key fetched');
    expect(fetched).toBe(key);
    expect((await stat(joinFile)).mode & 0o777).toBe(0o600);
  }, 90_000);

  it('refuses to start with a key readable by others, and with a lost key', async () => {
    const keyFile = join(cluster.serverDir, 'server', 'secrets.key');
    await cluster.killServer('SIGTERM');
    await chmod(keyFile, 0o644);
    await expect(cluster.startServer()).rejects.toThrow(/secrets.key has mode 644/);
    const key = await readFile(keyFile);
    await writeFile(keyFile, '');
    await chmod(keyFile, 0o600);
    await expect(cluster.startServer()).rejects.toThrow(/holds 0 bytes, expected 32/);
    // Deleted: never silently replaced by a fresh key while sealed Secrets exist.
    await rm(keyFile);
    await expect(cluster.startServer()).rejects.toThrow(/secrets.key is missing but the store holds encrypted Secrets/);
    await writeFile(keyFile, key, { mode: 0o600 });
    await cluster.startServer();
    expect(await shownData('legacy')).toEqual({ password: b64(LEGACY) });
  }, 120_000);
});
