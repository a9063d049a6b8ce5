/** `grove agent fsck` through the real command table (the server's runs in the integration test). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { main } from '../../src/cli/program.js';
import { makeNodeTarget } from '../../src/core/wire.js';
import { LevelStore } from '../../src/store/level-store.js';
import { writeMark } from '../../src/store/mark-file.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';

function capture(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      w.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-fsck-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function grove(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await main(['--data-dir', dir, ...args], { stdout, stderr }, fixedEnvironment({ GROVE_LOG_LEVEL: 'silent' }));
  return { code, out: stdout.text, err: stderr.text };
}

describe('grove agent fsck', () => {
  it('lists corrupt entries, quarantines them, and lists them as quarantined afterwards', async () => {
    const db = join(dir, 'agent', 'db');
    const store = new LevelStore({ path: db });
    await store.open();
    const target = makeNodeTarget({ cluster: 'c', node: 'n', revision: 4, pods: [], issuedAt: '2025-05-01T00:00:00.000Z' });
    await store.commit([
      { type: 'put', key: 'target', value: target },
      { type: 'put', key: 'applied-revision', value: 4 },
    ]);
    await store.close();
    const raw = new Level<string, Uint8Array>(db, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.open();
    await raw.put('jobs/bad', Uint8Array.from([0xa5, 0x01]));
    await raw.close();

    const dry = await grove('agent', 'fsck', '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(/^corrupt: jobs\/bad: undecodable CBOR/m);
    expect(dry.out).toMatch(/revision 1, 3 entries, 1 corrupt \(dry run: nothing changed\), 0 quarantined before$/m);

    const fix = await grove('agent', 'fsck');
    expect(fix.code).toBe(0);
    expect(fix.out).toMatch(/^1 corrupt entry quarantined at revision 2: the names can be used again$/m);

    const after = await grove('agent', 'fsck', '--dry-run');
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/^quarantined earlier: jobs\/bad: undecodable CBOR .*\(quarantined at revision 2, .*, 2 bytes kept\)$/m);
    expect(after.out).toMatch(/revision 2, 2 entries, no corrupt entries, 1 quarantined before$/m);
  });

  it('reports missing commits, and with --accept-loss moves the revision past the recorded one', async () => {
    const db = join(dir, 'agent', 'db');
    const store = new LevelStore({ path: db });
    await store.open();
    await store.commit([{ type: 'put', key: 'applied-revision', value: 1 }]);
    await store.close();
    await rm(`${db}.revision`, { force: true });
    await writeMark(`${db}.revision`, { revision: 99, at: '2025-05-01T00:00:00.000Z' });

    const refused = await grove('agent', 'fsck');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^LOSS: store at .* is missing commits: LevelDB holds revision 1 but revision 99 was recorded/m);
    expect(refused.out).toContain('`grove agent fsck --accept-loss`');
    expect((await grove('agent', 'fsck', '--dry-run', '--accept-loss')).err).toMatch(/cannot go with --dry-run/);

    const accepted = await grove('agent', 'fsck', '--accept-loss');
    expect(accepted.code).toBe(0);
    expect(accepted.out).toMatch(/^loss accepted: LevelDB holds revision 1 but revision 99/m);
    expect(accepted.out).toMatch(/^store revision moved to 100$/m);
    expect((await grove('agent', 'fsck', '--dry-run')).code).toBe(0);
  });

  it('refuses a data dir without a store rather than creating one', async () => {
    const r = await grove('agent', 'fsck');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no agent store at .*agent\/db: nothing to check/);
  });
});
