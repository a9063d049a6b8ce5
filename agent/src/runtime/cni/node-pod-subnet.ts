/**
 * The pod subnet the agent's pods use now (its pod CIDR from the network view), recorded in
 * <data-dir>/cni/node-pod-subnet.json so that `grove ctr run --network bridge` on the same node
 * puts its containers on the same bridge in the same range (and the same host-local leases)
 * instead of fighting the agent over the bridge's gateway address. Written only when it changes.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../../../src/store/durable-file.js';
import { checkSettings, type PodNetworkSettings } from './cni-config.js';

export interface NodePodSubnet {
  subnet: string;
  mtu?: number;
}

export function nodePodSubnetFile(dataDir: string): string {
  return join(dataDir, 'cni', 'node-pod-subnet.json');
}

/** The recorded subnet, or undefined (none, unreadable or not valid: ctr keeps config.json's). */
export async function readNodePodSubnet(dataDir: string): Promise<NodePodSubnet | undefined> {
  try {
    const text = await readFile(nodePodSubnetFile(dataDir), 'utf8');
    if (text.length > 4096) return undefined;
    const v = JSON.parse(text) as Partial<NodePodSubnet>;
    if (typeof v.subnet !== 'string' || (v.mtu !== undefined && typeof v.mtu !== 'number')) return undefined;
    checkSettings({ bridge: 'x', subnet: v.subnet, ipamDataDir: '', ...(v.mtu !== undefined ? { mtu: v.mtu } : {}) });
    return { subnet: v.subnet, ...(v.mtu !== undefined ? { mtu: v.mtu } : {}) };
  } catch {
    return undefined;
  }
}

/** Records `settings`' subnet and MTU (removes the record when there are none); nothing when unchanged. */
export async function recordNodePodSubnet(dataDir: string, settings: PodNetworkSettings | undefined): Promise<void> {
  const want: NodePodSubnet | undefined = settings ? { subnet: settings.subnet, ...(settings.mtu !== undefined ? { mtu: settings.mtu } : {}) } : undefined;
  const have = await readNodePodSubnet(dataDir);
  if (JSON.stringify(have) === JSON.stringify(want)) return;
  if (want) {
    await mkdir(dirname(nodePodSubnetFile(dataDir)), { recursive: true });
    await writeFileAtomic(nodePodSubnetFile(dataDir), JSON.stringify(want) + '\n');
  }
  else await rm(nodePodSubnetFile(dataDir), { force: true });
}
