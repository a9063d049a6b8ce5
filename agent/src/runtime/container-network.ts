/**
 * A container's own bridge network (docker's default network, `grove ctr run --network
 * bridge`): a CNI attachment, plus the /etc/hosts and /etc/resolv.conf files bound into it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import { hostsFile, type PortMapping } from './cni/cni-config.js';
import type { NetworkAttachment, PodNetwork } from './cni/pod-network.js';
import type { BindMount } from './host-access.js';
import { nodeResolvConf } from './resolv-conf.js';

/** systemd-resolved's list of upstream servers, for hosts whose resolv.conf is its stub. */
const UPSTREAM_RESOLV = '/run/systemd/resolve/resolv.conf';

export interface PreparedNetwork {
  attachment: NetworkAttachment;
  /** /etc/hosts and /etc/resolv.conf, read-only. */
  mounts: BindMount[];
}

/** The resolv.conf a container on the node bridge gets (the host's, or its upstream servers). */
export async function bridgeResolvConf(): Promise<string> {
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const upstream = await readFile(UPSTREAM_RESOLV, 'utf8').catch(() => undefined);
  return nodeResolvConf(hostResolv, upstream);
}

export async function prepareBridgeNetwork(network: PodNetwork | undefined, id: string, hostname: string, ports: readonly PortMapping[], containerDir: string): Promise<PreparedNetwork> {
  if (!network) throw new GroveError(ErrorCode.ConfigInvalid, 'bridge networking is not set up on this node');
  const attachment = await network.attach(id, ports);
  try {
    const hosts = join(containerDir, 'hosts');
    const resolv = join(containerDir, 'resolv.conf');
    await writeFileAtomic(hosts, hostsFile(hostname, attachment.ip));
    await writeFileAtomic(resolv, await bridgeResolvConf());
    return {
      attachment,
      mounts: [
        { source: hosts, destination: '/etc/hosts', readOnly: true },
        { source: resolv, destination: '/etc/resolv.conf', readOnly: true },
      ],
    };
  } catch (err) {
    await network.detach(id).catch(() => undefined);
    throw err;
  }
}

const PUBLISH = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;

/** docker -p [IP:]HOST:CONTAINER[/tcp|udp]. */
export function parsePublishFlag(value: string): PortMapping {
  const m = PUBLISH.exec(value);
  const port = (s: string | undefined): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new GroveError(ErrorCode.InvalidArgument, `--publish: "${value}": ports are 1-65535`);
    return n;
  };
  if (!m) throw new GroveError(ErrorCode.InvalidArgument, `--publish: "${value}" is not [IP:]HOST:CONTAINER[/tcp|udp]`);
  return { hostPort: port(m[2]), containerPort: port(m[3]), protocol: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp', ...(m[1] ? { hostIP: m[1] } : {}) };
}
