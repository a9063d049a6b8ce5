/**
 * Test-only: a node with pods, built from network namespaces so the service proxier can program
 * real iptables rules without touching the host's own tables:
 *
 *   ext (192.168.77.2) ── uplink ── node (192.168.77.1; br0 10.42.0.1/24) ── pod namespaces (10.42.0.x)
 *
 * Each pod can serve HTTP with busybox httpd (the answer is the pod's name) and the node's tools
 * (iptables-restore, iptables-save, conntrack) are reached through wrapper scripts that enter the
 * node's network namespace, so the proxier under test runs its real commands there.
 * `destroy()` stops the servers and deletes every namespace (and the rules inside with them).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const LAB = { nodeIP: '192.168.77.1', extIP: '192.168.77.2', bridgeIP: '10.42.0.1' } as const;

export interface ServiceLab {
  node: string;
  ext: string;
  /** Path of a script that runs `tool` inside the node's network namespace. */
  tool(name: 'iptables-restore' | 'iptables-save' | 'conntrack'): string;
  /** Adds a pod namespace on the node's bridge. */
  addPod(name: string, ip: string): Promise<string>;
  /** busybox httpd on port 8080 of a pod, answering its name. */
  serveHttp(pod: string): Promise<void>;
  /** Runs a shell command inside a namespace; resolves with stdout and stderr, never rejects on exit codes. */
  sh(ns: string, script: string, timeoutMs?: number): Promise<{ stdout: string; stderr: string; code: number }>;
  destroy(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export async function createServiceLab(): Promise<ServiceLab> {
  const suffix = randomBytes(3).toString('hex');
  const node = `gsl-node-${suffix}`;
  const ext = `gsl-ext-${suffix}`;
  const pods = new Map<string, string>();
  const servers: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'grove-service-lab-'));
  const inNs = (ns: string, script: string) => ['netns', 'exec', ns, 'sh', '-c', script];

  const lab: ServiceLab = {
    node,
    ext,
    tool: (name) => join(dir, name),
    async addPod(name, podIP) {
      const ns = `gsl-${name}-${suffix}`;
      await ip('netns', 'add', ns);
      pods.set(name, ns);
      const peer = `v${name}`.slice(0, 15);
      await ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', node);
      // Hairpin as the CNI bridge plugin sets it (cni-config.ts): br_netfilter bridges a pod's
      // packet DNAT-ed back to the same pod out of the port it came in on.
      await run('ip', inNs(node, `ip link set ${peer} master br0 up && ip link set ${peer} type bridge_slave hairpin on`));
      await run('ip', inNs(ns, `ip link set lo up && ip addr add ${podIP}/24 dev eth0 && ip link set eth0 up && ip route add default via ${LAB.bridgeIP}`));
      return ns;
    },
    async serveHttp(pod) {
      const ns = pods.get(pod)!;
      const root = join(dir, `www-${pod}`);
      await mkdir(root, { recursive: true });
      await writeFile(join(root, 'index.html'), `${pod}\n`);
      const child = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '8080', '-h', root], { stdio: 'ignore' });
      servers.push(child);
      // Listening once a request from inside the pod gets an answer.
      for (let i = 0; i < 50; i++) {
        if ((await lab.sh(ns, 'timeout 5 busybox wget -q -O - http://127.0.0.1:8080/')).stdout.trim() === pod) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`httpd in ${pod} did not start`);
    },
    async sh(ns, script, timeoutMs = 60_000) {
      try {
        const { stdout, stderr } = await run('ip', inNs(ns, script), { timeout: timeoutMs, maxBuffer: 4 << 20 });
        return { stdout, stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
      }
    },
    async destroy() {
      for (const s of servers) s.kill('SIGKILL');
      for (const ns of [...pods.values(), ext, node]) await ip('netns', 'del', ns).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await ip('netns', 'add', node);
    await ip('netns', 'add', ext);
    await ip('link', 'add', 'uplink', 'netns', node, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', ext);
    await run('ip', inNs(node, [
      'ip link set lo up',
      'ip link add br0 type bridge && ip addr add 10.42.0.1/24 dev br0 && ip link set br0 up',
      `ip addr add ${LAB.nodeIP}/24 dev uplink && ip link set uplink up`,
      // A real node has a default route; without one, connecting to a ClusterIP fails before netfilter sees it.
      `ip route add default via ${LAB.extIP}`,
      'sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1',
    ].join(' && ')));
    await run('ip', inNs(ext, `ip link set lo up && ip addr add ${LAB.extIP}/24 dev uplink && ip link set uplink up`));
    for (const name of ['iptables-restore', 'iptables-save', 'conntrack'] as const) {
      await writeFile(join(dir, name), `#!/bin/sh\nexec nsenter --net=/run/netns/${node} ${name} "$@"\n`);
      await chmod(join(dir, name), 0o755);
    }
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}
