import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../src/cli/local-config.js';

describe('local config.json', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has defaults when absent', async () => {
    expect(await loadLocalConfig(dir)).toEqual({ runtime: 'auto', logMaxBytes: 1048576, logMaxFiles: 2, podBridge: 'grove0', podSubnet: '10.42.0.0/16' });
  });

  it('takes runtime and log caps', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ runtime: 'runc', logMaxBytes: 65536, logMaxFiles: 3 }));
    expect(await loadLocalConfig(dir)).toEqual({ runtime: 'runc', logMaxBytes: 65536, logMaxFiles: 3, podBridge: 'grove0', podSubnet: '10.42.0.0/16' });
  });

  it('takes the image unpack budget and reserve, as bytes or sizes', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ imageMaxUnpackedBytes: '2Gi', imageMinFreeBytes: 104857600 }));
    expect(await loadLocalConfig(dir)).toMatchObject({ imageMaxUnpackedBytes: 2 * 1024 ** 3, imageMinFreeBytes: 100 * 1024 ** 2 });
  });

  it.each([
    [{ imageMaxUnpackedBytes: 'lots' }, 'imageMaxUnpackedBytes: "lots" is not a size'],
    [{ imageMaxUnpackedBytes: 1000 }, 'imageMaxUnpackedBytes must be at least 1Mi'],
    [{ imageMinFreeBytes: -1 }, 'imageMinFreeBytes: "-1" is not a whole number of bytes'],
    [{ runtime: 'docker' }, 'runtime must be'],
    [{ logMaxBytes: 10 }, 'logMaxBytes must be'],
    [{ colour: 'blue' }, 'unknown setting "colour"'],
    [{ podSubnet: '10.42.0.0' }, 'podSubnet "10.42.0.0" must be an IPv4 CIDR'],
    [[1, 2], 'must be a JSON object'],
  ])('rejects %j naming the file and field', async (content, message) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(content));
    await expect(loadLocalConfig(dir)).rejects.toThrow(message);
    await expect(loadLocalConfig(dir)).rejects.toThrow(join(dir, 'config.json'));
  });
});
