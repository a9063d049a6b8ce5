import type { Command } from 'commander';
import type { ContainerView } from '../../../../agent/src/runtime/container-manager.js';
import { writeLine } from '../../io.js';
import { argList, NO_OPTIONS, type Act } from '../../verb.js';
import { openRuntime } from './open.js';

/** The stable JSON shape of `grove ctr inspect` (documented in docs/runtime.md). */
export function inspectJson(v: ContainerView): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    image: v.image,
    imageDigest: v.imageDigest,
    command: v.command,
    state: v.state,
    pid: v.state === 'running' ? (v.pid ?? null) : null,
    shimPid: v.state === 'running' ? (v.shimPid ?? null) : null,
    exitCode: v.exitCode,
    signal: v.signal ?? null,
    oomKilled: v.oomKilled,
    createdAt: v.createdAt,
    startedAt: v.startedAt ?? null,
    finishedAt: v.finishedAt ?? null,
    runtime: v.runtime,
    rootfs: v.rootfsKind,
    cgroupsPath: v.cgroupsPath,
    limits: {
      memory: v.spec.limits.memoryBytes ?? null,
      cpus: v.spec.limits.cpus ?? null,
      pids: v.spec.limits.pidsLimit ?? null,
      cpuShares: v.spec.limits.cpuShares ?? null,
    },
    env: v.spec.env,
    labels: v.spec.labels,
    network: v.spec.hostNetwork ? { mode: 'host' } : v.network ? { mode: 'bridge', ip: v.network.ip, netns: v.network.netns, ports: v.spec.bridgeNetwork?.ports ?? [] } : { mode: 'none' },
    mounts: v.spec.mounts ?? [],
    devices: v.spec.devices ?? [],
    privileged: v.spec.privileged === true,
    seccomp: seccompText(v.spec),
  };
}

/** default, unconfined, "unconfined (privileged)", localhost:PATH (under <data-dir>/seccomp) or file:PATH. */
function seccompText(spec: ContainerView['spec']): string {
  const p = spec.seccompProfile;
  if (p?.type === 'Localhost') return `localhost:${p.localhostProfile}`;
  if (p?.type === 'File') return `file:${p.path}`;
  if (p?.type === 'Unconfined') return 'unconfined';
  return spec.privileged ? 'unconfined (privileged)' : 'default';
}

export function registerInspect(ctr: Command, act: Act): void {
  act(
    ctr.command('inspect').description('print a container as JSON').argument('<container...>', 'names or IDs'),
    NO_OPTIONS,
    async (ctx, [names]) => {
      const { containers } = await openRuntime(ctx);
      const views = [];
      for (const name of argList(names)) views.push(inspectJson(await containers.find(name)));
      writeLine(ctx.io.stdout, JSON.stringify(views.length === 1 ? views[0] : views, null, 2));
    },
  );
}
