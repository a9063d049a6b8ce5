/**
 * What a pod sandbox is (agent/src/runtime/pod-sandbox.ts makes them, the agent's planner
 * decides them: agent/src/agent/plan/sandboxes.ts), what one is made from (a SandboxRequest:
 * the host ports it publishes, the network it needs), and whether its ports clash with another
 * sandbox's.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { DnsPolicy, PodDnsConfig } from '../../../src/core/objects/pod.js';

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
  /** The pod's hostAliases: extra /etc/hosts lines, kept for each rewrite of the file. */
  hostAliases?: HostAliasLine[];
  /** False while half-created or when its namespaces are gone (a reboot): it is then recreated. */
  ready: boolean;
  createdAt: string;
  /** The names on its own /etc/hosts line (FQDN first with a subdomain); absent: `pod`. */
  hostNames?: string[];
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
  create(req: SandboxRequest): Promise<PodSandbox>;
  /** Tears a sandbox down (CNI DEL with its saved results, namespaces, files); unknown pods are fine. */
  remove(pod: string): Promise<void>;
  /** Rewrites each named pod's /etc/hosts in place where its content differs. */
  writeHosts(files: ReadonlyMap<string, string>): Promise<void>;
}

/** A host port a pod publishes, CNI portmap's shape. */
export interface SandboxPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/**
 * What a sandbox is made from, read off the pod by the agent (agent/src/agent/plan/pod-fields.ts
 * sandboxRequestOf): the runtime never reads a pod target itself.
 */
export interface SandboxRequest {
  /** The pod's key on the node (its name; "<namespace>_<name>" outside the default namespace). */
  pod: string;
  /** The pod's hostname (spec.hostname, else its name): its UTS name and /etc/hosts entry. */
  hostname: string;
  /**
   * spec.subdomain: the pod's fully qualified name is <hostname>.<subdomain>.<namespace>.svc.<cluster
   * domain> (on its /etc/hosts line, as kubelet writes it; its DNS record comes with a headless
   * Service of that name).
   */
  subdomain?: string;
  /** spec.setHostnameAsFQDN: the UTS hostname is the fully qualified name (at most 64 characters, as Linux allows). */
  setHostnameAsFQDN?: boolean;
  app: string;
  hostNetwork: boolean;
  /** Sorted, so equal sets compare equal; none on the host's network. */
  ports: SandboxPortMapping[];
  /** What its resolv.conf is made from (resolv-conf.ts); absent: the node's own, as before cluster DNS. */
  dns?: SandboxDns;
  /** Extra /etc/hosts lines (the pod's hostAliases). */
  hostAliases?: HostAliasLine[];
}

/** One hostAliases entry: an address and the names that resolve to it. */
export interface HostAliasLine {
  ip: string;
  hostnames: string[];
}

/** The pod's DNS settings, for its resolv.conf. */
export interface SandboxDns {
  /** The pod's namespace: the first search domain, <ns>.svc.<domain>. */
  namespace: string;
  policy: DnsPolicy;
  config?: PodDnsConfig;
}

/** What a sandbox's network was made from: a change means a new sandbox. */
export function sandboxNetworkKey(req: SandboxRequest): string {
  if (req.hostNetwork) return 'host';
  const ports = req.ports.map((p) => `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`);
  return ports.length === 0 ? 'bridge' : `bridge ${ports.join(',')}`;
}

/** Whether a pod's containers may start: its sandbox is ready and made for its network settings. */
export function sandboxReady(sandboxes: readonly PodSandbox[], req: SandboxRequest): boolean {
  return sandboxes.some((s) => s.pod === req.pod && s.ready && s.networkKey === sandboxNetworkKey(req));
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
export function checkHostPortsFree(req: SandboxRequest, sandboxes: readonly PodSandbox[]): void {
  for (const want of req.ports) {
    for (const s of sandboxes) {
      if (s.pod === req.pod) continue;
      const taken = s.ports.find((p) => portsOverlap(p, want));
      if (taken) {
        throw new GroveError(ErrorCode.InvalidArgument, `hostPort ${want.hostPort}/${want.protocol.toUpperCase()} is already used by pod ${s.pod} (app ${s.app}) on this node`, {
          details: { hostPort: want.hostPort, protocol: want.protocol, pod: s.pod },
        });
      }
    }
  }
}
