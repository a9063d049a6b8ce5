/** The agent's pod subnet recorded for `grove ctr` (written only on change, ignored when invalid). */
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodePodSubnetFile, readNodePodSubnet, recordNodePodSubnet } from '../../agent/src/runtime/cni/node-pod-subnet.js';

describe('node pod subnet record', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'grove-node-subnet-'));
    dirs.push(d);
    return d;
  };
  const settings = { bridge: 'grove0', subnet: '10.42.3.0/24', ipamDataDir: '/x', mtu: 1450 };

  it('records the subnet and MTU, rewrites nothing when unchanged, removes the record without settings', async () => {
    const d = await dir();
    expect(await readNodePodSubnet(d)).toBeUndefined();
    await recordNodePodSubnet(d, settings);
    expect(await readNodePodSubnet(d)).toEqual({ subnet: '10.42.3.0/24', mtu: 1450 });
    const before = (await stat(nodePodSubnetFile(d))).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await recordNodePodSubnet(d, settings);
    expect((await stat(nodePodSubnetFile(d))).mtimeMs).toBe(before);
    await recordNodePodSubnet(d, { ...settings, subnet: '10.42.4.0/24' });
    expect(JSON.parse(await readFile(nodePodSubnetFile(d), 'utf8'))).toEqual({ subnet: '10.42.4.0/24', mtu: 1450 });
    await recordNodePodSubnet(d, undefined);
    expect(await readNodePodSubnet(d)).toBeUndefined();
  });

  it('ignores a record that is not a valid subnet', async () => {
    const d = await dir();
    await mkdir(join(d, 'cni'), { recursive: true });
    await writeFile(nodePodSubnetFile(d), '{"subnet":"10.42.3.0/33"}');
    expect(await readNodePodSubnet(d)).toBeUndefined();
    await writeFile(nodePodSubnetFile(d), 'not json');
    expect(await readNodePodSubnet(d)).toBeUndefined();
  });
});
