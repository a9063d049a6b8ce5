/**
 * A pod sandbox's network settings, PURE: the host ports a pod publishes and the key a sandbox
 * is made for (a change of it means a new sandbox), plus the node's own check that no two pods
 * take one hostPort. Shared by the planner (plan/sandboxes.ts) and both runtimes' sandboxes.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { PodTarget } from '../../../src/core/wire-types.js';
import type { PodSandbox, SandboxPort } from './node-runtime.js';
import { allContainersOf, onHostNetwork } from './plan/pod-fields.js';

/** The host ports a pod publishes, CNI portmap's shape, sorted so equal sets compare equal. */
export function podPortMappings(pod: PodTarget): { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; hostIP?: string }[] {
  if (onHostNetwork(pod)) return []; // on the host's network a container's port is the node's port already
  const out = allContainersOf(pod).flatMap((c) =>
    (c.ports ?? []).flatMap((p) =>
      p.hostPort === undefined ? [] : [{ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const), ...(p.hostIP ? { hostIP: p.hostIP } : {}) }],
    ),
  );
  return out.sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol) || (a.hostIP ?? '').localeCompare(b.hostIP ?? ''));
}

/** What a sandbox's network was made from: a change means a new sandbox. */
export function sandboxNetworkKey(pod: PodTarget): string {
  if (onHostNetwork(pod)) return 'host';
  const ports = podPortMappings(pod).map((p) => `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`);
  return ports.length === 0 ? 'bridge' : `bridge ${ports.join(',')}`;
}

/** Whether a pod's containers may start: its sandbox is ready and made for its network settings. */
export function sandboxReady(sandboxes: readonly PodSandbox[], pod: PodTarget): boolean {
  return sandboxes.some((s) => s.pod === pod.name && s.ready && s.networkKey === sandboxNetworkKey(pod));
}

/** Whether two host port mappings clash (an unset or 0.0.0.0 address takes every address). */
export function portsOverlap(a: SandboxPort, b: SandboxPort): boolean {
  const any = (ip: string | undefined): boolean => ip === undefined || ip === '0.0.0.0';
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (any(a.hostIP) || any(b.hostIP) || a.hostIP === b.hostIP);
}

/**
 * The node's last line of defence against two pods on one hostPort (the scheduler keeps them
 * apart; a pod of an older template or a hand-edited target may not be): CNI portmap would let
 * the first rule win silently, so the second pod gets a CreateError naming the first.
 */
export function checkHostPortsFree(pod: PodTarget, sandboxes: readonly PodSandbox[]): void {
  for (const want of podPortMappings(pod)) {
    for (const s of sandboxes) {
      if (s.pod === pod.name) continue;
      const taken = s.ports.find((p) => portsOverlap(p, want));
      if (taken) {
        throw new GroveError(ErrorCode.InvalidArgument, `hostPort ${want.hostPort}/${want.protocol.toUpperCase()} is already used by pod ${s.pod} (app ${s.app}) on this node`, {
          details: { hostPort: want.hostPort, protocol: want.protocol, pod: s.pod },
        });
      }
    }
  }
}
