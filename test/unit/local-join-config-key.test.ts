import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { joinConfigPath } from '../../agent/src/agent/join-client.js';
import { ensureLocalJoin } from '../../src/cli/roles/local-join.js';
import { getNodeKey } from '../../src/server/node-keys.js';
import { SealedStore } from '../../src/server/sealed-store.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it("the server's own node gets its config key at join, and one is added to a join made before keys existed", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'grove-local-join-'));
  dirs.push(dataDir);
  const raw = new MemoryStore();
  await raw.open();
  const store = new SealedStore(raw, randomBytes(32));
  const options = { dataDir, objects: new ObjectStore({ store, clock: new ManualClock(Date.parse('2026-01-01T00:00:00Z')) }), cluster: 'c1', nodeName: 'pi-1', labels: {}, serverUrl: 'http://127.0.0.1:7080', brokerUrl: 'mqtt://127.0.0.1:1883' };
  const first = await ensureLocalJoin(options);
  const key = await getNodeKey(store, 'pi-1');
  expect(first.configKey).toBe(key!.toString('base64'));
  // Sealed in the store: the raw record does not hold the key.
  expect(JSON.stringify((await raw.get('grove/nodekeys/pi-1'))!.value)).not.toContain(first.configKey);

  const file = joinConfigPath(dataDir);
  const mtime = (await stat(file)).mtimeMs;
  expect(await ensureLocalJoin(options)).toEqual(first);
  expect((await stat(file)).mtimeMs).toBe(mtime);

  const { configKey: _dropped, ...old } = first;
  await writeFile(file, JSON.stringify(old));
  const upgraded = await ensureLocalJoin(options);
  expect(upgraded.configKey).toBe(first.configKey);
  expect(JSON.parse(await readFile(file, 'utf8')).configKey).toBe(first.configKey);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
});
