import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClientConfig, writeClientConfig } from '../../src/cli/client/client-config.js';
import { collectionFor } from '../../src/cli/client/open-client.js';
import { parseLabelChanges } from '../../src/cli/verbs/client/node.js';
import { parseDurationSeconds } from '../../src/core/quantity.js';

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
    expect(await loadClientConfig({ dataDir: dir, env: {} })).toEqual(config);
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...config, apiUrl: 'https://pi:7080' }));
    expect((await loadClientConfig({ dataDir: dir, env: { GROVE_CONFIG: other } })).apiUrl).toBe('https://pi:7080');
    expect((await loadClientConfig({ config: join(dir, 'client.json'), dataDir: '/nope', env: { GROVE_CONFIG: other } })).apiUrl).toBe(config.apiUrl);
  });

  it('says what to do when there is no config', async () => {
    await expect(loadClientConfig({ dataDir: dir, env: {} })).rejects.toThrow('not found (start `grove server` first, or pass --config)');
  });

  it('rejects a config without a usable URL or token', async () => {
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'ftp://x', token: 'x'.repeat(32) }));
    await expect(loadClientConfig({ dataDir: dir, env: {} })).rejects.toThrow('apiUrl must be an http(s) URL');
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'http://x' }));
    await expect(loadClientConfig({ dataDir: dir, env: {} })).rejects.toThrow(`client config ${join(dir, 'client.json')}: token is missing`);
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: 'http://x', token: 'short' }));
    await expect(loadClientConfig({ dataDir: dir, env: {} })).rejects.toThrow(`client config ${join(dir, 'client.json')}: token is malformed: too short`);
  });
});

describe('kubectl-style arguments', () => {
  it('maps kind words to collections', () => {
    expect(collectionFor('deployment')).toBe('apps');
    expect(collectionFor('ds')).toBe('apps');
    expect(collectionFor('cm')).toBe('configmaps');
    expect(collectionFor('Secrets')).toBe('secrets');
    expect(collectionFor('po')).toBe('pods');
    expect(collectionFor('volume')).toBeUndefined();
  });

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
