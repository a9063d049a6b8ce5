import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClientConfig, writeClientConfig } from '../../src/cli/client/client-config.js';
import { parseLabelChanges } from '../../src/cli/verbs/client/node.js';
import { parseDurationSeconds } from '../../src/core/quantity.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { resolveTable } from '../../src/cli/config/resolve.js';
import { GLOBAL_OPTIONS } from '../../src/cli/config/role-options.js';

describe('client config discovery', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-client-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers --config, then $GROVE_CONFIG, then the data dir', async () => {
    const config = { apiUrl: 'http://127.0.0.1:7080', token: 'x'.repeat(32) };
    await writeClientConfig(dir, config);
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...config, apiUrl: 'https://pi:7080' }));
    // --config / $GROVE_CONFIG resolve like every option (src/cli/config); unset, the data dir's file.
    const located = (flags: Record<string, string>, vars: Record<string, string>) =>
      resolveTable(GLOBAL_OPTIONS, { flags: new Map(Object.entries(flags)), env: fixedEnvironment({ GROVE_DATA_DIR: dir, ...vars }) }).values;
    const load = (o: { config?: string | undefined; dataDir: string }) => loadClientConfig({ config: o.config, dataDir: o.dataDir });
    expect(await load(located({}, {}))).toEqual(config);
    expect((await load(located({}, { GROVE_CONFIG: other }))).apiUrl).toBe('https://pi:7080');
    expect((await load(located({ config: join(dir, 'client.json'), dataDir: '/nope' }, { GROVE_CONFIG: other }))).apiUrl).toBe(config.apiUrl);
  });

  it('says what to do when there is no config', async () => {
    await expect(loadClientConfig({ dataDir: dir })).rejects.toThrow('not found (start `grove server` first, or pass --config)');
  });

  it('rejects a config without a usable URL or token', async () => {
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'ftp://x', token: 'x'.repeat(32) }));
    await expect(loadClientConfig({ dataDir: dir })).rejects.toThrow('apiUrl must be an http(s) URL');
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'http://x' }));
    await expect(loadClientConfig({ dataDir: dir })).rejects.toThrow(`client config ${join(dir, 'client.json')}: token is missing`);
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'http://x', token: 'short' }));
    await expect(loadClientConfig({ dataDir: dir })).rejects.toThrow(`client config ${join(dir, 'client.json')}: token is malformed: too short`);
  });
});

describe('kubectl-style arguments', () => {
  it('parses label changes', () => {
    expect(parseLabelChanges(['role=sensor', 'grove.io/zone=north', 'old-'])).toEqual({ role: 'sensor', 'grove.io/zone': 'north', old: null });
    expect(() => parseLabelChanges(['novalue'])).toThrow('use key=value to set or key- to remove');
    expect(() => parseLabelChanges(['k=has space'])).toThrow('is not a valid label value');
  });

  it('parses durations', () => {
    expect(parseDurationSeconds('24h', '--ttl')).toBe(86400);
    expect(parseDurationSeconds('1h30m', '--ttl')).toBe(5400);
    expect(parseDurationSeconds('7d', '--ttl')).toBe(604800);
    expect(() => parseDurationSeconds('soon', '--ttl')).toThrow('--ttl: "soon" is not a duration');
    expect(() => parseDurationSeconds('0s', '--ttl')).toThrow('longer than 0s');
  });
});
