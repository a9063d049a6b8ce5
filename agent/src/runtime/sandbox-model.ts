/**
 * What a pod sandbox is (agent/src/runtime/pod-sandbox.ts makes them, the agent's planner
 * decides them: agent/src/agent/plan/sandboxes.ts) and the pure facts both read off a pod: its
 * containers, the host ports it publishes, the network it needs, and whether its ports clash
 * with another sandbox's.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ContainerTarget, PodTarget } from '../../../src/core/wire-types.js';

/** A pod's sandbox (agent/src/agent/plan/sandboxes.ts): the namespaces and files its containers share. */
export interface PodSandbox {
  pod: string;
  app: string;
  /** sandboxNetworkKey() of the pod it was made for. */
  networkKey: string;
  hostNetwork: boolean;
  /** The pod's address on the node bridge (absent on the host's network). */
  ip?: string;
  /** The node's address on the bridge, as seen from the pod. */
  gateway?: string;
  /** Host ports it publishes (portmap), for the node's own conflict check. */
  ports: SandboxPort[];
  /** False while half-created or when its namespaces are gone (a reboot): it is then recreated. */
  ready: boolean;
  createdAt: string;
}

export interface SandboxPort {
  hostPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** Sandbox operations of a runtime that has them (the reconciler plans them when present). */
export interface SandboxOps {
  list(): Promise<PodSandbox[]>;
  /** Everything or nothing: a failed create leaves no namespace, lease, rule or file behind. */
  create(pod: PodTarget): Promise<PodSandbox>;
  /** Tears a sandbox down (CNI DEL with its saved results, namespaces, files); unknown pods are fine. */
  remove(pod: string): Promise<void>;
  /** Rewrites each named pod's /etc/hosts in place where its content differs. */
  writeHosts(files: ReadonlyMap<string, string>): Promise<void>;
}

/** Every container a pod runs, init containers first. */
export function podContainers(pod: PodTarget): ContainerTarget[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** The host ports a pod publishes, CNI portmap's shape, sorted so equal sets compare equal. */
export function podPortMappings(pod: PodTarget): { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; hostIP?: string }[] {
  if (pod.hostNetwork) return []; // on the host's network a container's port is the node's port already
  const out = podContainers(pod).flatMap((c) =>
    (c.ports ?? []).flatMap((p) =>
      p.hostPort === undefined ? [] : [{ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const), ...(p.hostIP ? { hostIP: p.hostIP } : {}) }],
    ),
  );
  return out.sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol) || (a.hostIP ?? '').localeCompare(b.hostIP ?? ''));
}

/** What a sandbox's network was made from: a change means a new sandbox. */
export function sandboxNetworkKey(pod: PodTarget): string {
  if (pod.hostNetwork) return 'host';
  const ports = podPortMappings(pod).map((p) => `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`);
  return ports.length === 0 ? 'bridge' : `bridge ${ports.join(',')}`;
}

/** Whether a pod's containers may start: its sandbox is ready and made for its network settings. */
export function sandboxReady(sandboxes: readonly PodSandbox[], pod: PodTarget): boolean {
  return sandboxes.some((s) => s.pod === pod.name && s.ready && s.networkKey === sandboxNetworkKey(pod));
}

/** Whether two host ports clash: same port and protocol, and an address in common (none = every address). */
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
