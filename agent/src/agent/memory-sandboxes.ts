/**
 * In-memory pod sandboxes for MemoryRuntime (unit tests, hollow nodes): addresses count up on
 * a fake 10.42.0.0/16 bridge, hostPort clashes fail as on a real node, and tests can make the
 * next create fail or break a sandbox (as a reboot does).
 */
import type { PodSandbox, SandboxOps } from './node-runtime.js';
import { checkHostPortsFree, sandboxNetworkKey, type SandboxRequest } from '../runtime/sandbox-model.js';

export class MemorySandboxes implements SandboxOps {
  private readonly byPod = new Map<string, PodSandbox>();
  private readonly nextErrors: Error[] = [];
  private seq = 0;
  /** Every create / remove ("create web-1", "remove web-1"), in order. */
  readonly calls: string[] = [];
  /** The last /etc/hosts content written for each pod. */
  readonly hosts = new Map<string, string>();

  constructor(private readonly now: () => number) {}

  async list(): Promise<PodSandbox[]> {
    return [...this.byPod.values()].map((s) => ({ ...s, ports: s.ports.map((p) => ({ ...p })) }));
  }

  async create(req: SandboxRequest): Promise<PodSandbox> {
    this.calls.push(`create ${req.pod}`);
    const next = this.nextErrors.shift();
    if (next) throw next;
    this.byPod.delete(req.pod);
    checkHostPortsFree(req, [...this.byPod.values()]);
    this.seq += 1;
    const sandbox: PodSandbox = {
      pod: req.pod,
      app: req.app,
      networkKey: sandboxNetworkKey(req),
      hostNetwork: req.hostNetwork,
      ports: req.ports.map(({ containerPort: _c, ...p }) => p),
      ...(req.hostAliases?.length ? { hostAliases: req.hostAliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })) } : {}),
      ...(req.hostNetwork ? {} : { ip: `10.42.${Math.floor((this.seq + 1) / 256)}.${(this.seq + 1) % 256}`, gateway: '10.42.0.1' }),
      ready: true,
      createdAt: new Date(this.now()).toISOString(),
    };
    this.byPod.set(req.pod, sandbox);
    return { ...sandbox };
  }

  async remove(pod: string): Promise<void> {
    this.calls.push(`remove ${pod}`);
    this.byPod.delete(pod);
    this.hosts.delete(pod);
  }

  async writeHosts(files: ReadonlyMap<string, string>): Promise<void> {
    for (const [pod, content] of files) if (this.byPod.has(pod)) this.hosts.set(pod, content);
  }

  // ---- controls for tests ----

  failNextCreate(error: Error): void {
    this.nextErrors.push(error);
  }

  /** Marks a sandbox as lost (its namespaces gone, as after a reboot). */
  break(pod: string): void {
    const s = this.byPod.get(pod);
    if (s) this.byPod.set(pod, { ...s, ready: false });
  }
}
