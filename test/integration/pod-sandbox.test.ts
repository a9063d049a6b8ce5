import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sandboxRunDir } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { TERM_AWARE, type CtrInspect, type TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { freePort } from '../support/ports.js';
import { createNetnsLink, type NetnsLink } from '../support/netns.js';
import { describeWith } from '../support/prereq.js';

/**
 * Pod sandboxes with real runc and Debian's CNI plugins (issue 5): the containers of one pod
 * share network, IPC and UTS namespaces (localhost works, hostname = pod name); a hostPort
 * answers from the host and from a LAN peer; two apps on one node reach each other by app name
 * through /etc/hosts; after kill -9 of the agent and a restart, deleting the pods leaves no
 * veth, lease, iptables rule, netns or namespace file; a second pod claiming a hostPort taken
 * on the only node stays Pending with the scheduler's reason (never sent to the node).
 */
describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables'], 'pod sandboxes (real containers, CNI)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let agentDir = '';
  let bridge = '';
  /** A LAN peer: its own namespace, a veth to the host on a /30. */
  let lan: NetnsLink | undefined;
  let hostPort = 0;
  let otherPort = 0;

  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const httpGet = (url: string, ns?: string): string => {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) }).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(e.message); process.exit(1); })`;
    return ns ? sh('ip', ['netns', 'exec', ns, process.execPath, '-e', script]) : sh(process.execPath, ['-e', script]);
  };
  const tryGet = (url: string, ns?: string): string | undefined => {
    try {
      return httpGet(url, ns);
    } catch {
      return undefined;
    }
  };
  const image = (): string => `${env!.registry.host}/test/busybox:1`;
  const serve = (port: number): string => JSON.stringify(['sh', '-c', `mkdir -p /www && hostname > /www/index.html && exec httpd -f -p ${port} -h /www`]);

  const apply = async (name: string, containers: string, replicas = 1): Promise<void> => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
${containers}`;
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const remove = async (name: string): Promise<void> => {
    const r = await cluster.grove(['delete', 'deployment', name]);
    expect(r.code, r.stderr).toBe(0);
  };
  /** Runs argv in a running container of the node (runc exec under the agent's runtime root). */
  const execIn = (c: CtrInspect, argv: string[]): string => sh('runc', ['--root', join(agentDir, 'run', 'runc'), 'exec', c.id, ...argv]);
  const containerOf = async (pod: string, name: string): Promise<CtrInspect> =>
    eventually(async () => (await cluster.runningContainers('node-a')).find((c) => c.name === `${pod}_${name}`), 60_000, `${pod}_${name} running`);
  const nsOf = (pid: number | null, ns: string): string => sh('readlink', [`/proc/${pid}/ns/${ns}`]).trim();

  /** What a pod's sandbox may leave on the host, for the leak check. */
  const traces = (): { veths: string; leases: string[]; rules: string; netns: string; runDir: string[] } => ({
    veths: tryRun('ip', ['-o', 'link', 'show', 'master', bridge]),
    leases: readdirSafe(join(agentDir, 'cni', 'ipam', 'grove')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)),
    rules: tryRun('iptables-save', []),
    netns: tryRun('ip', ['netns', 'list']),
    runDir: readdirSafe(sandboxRunDir(agentDir)),
  });

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pod-sandbox-', 'node-a');
    cluster = env.cluster;
    agentDir = cluster.agentDir('node-a');
    bridge = (JSON.parse(readFileSync(join(agentDir, 'config.json'), 'utf8')) as { podBridge: string }).podBridge;
    hostPort = await freePort();
    otherPort = await freePort();
    lan = await createNetnsLink('pp');
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
    await lan?.destroy();
  }, 120_000);

  it('shares network, IPC and UTS between the containers of a pod, and publishes its hostPort to the host and the LAN', async () => {
    await apply(
      'duo',
      `        - name: web
          image: ${image()}
          command: ${serve(8080)}
          ports: [{ containerPort: 8080, hostPort: ${hostPort}, name: http }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
        - name: side
          image: ${image()}
          command: ${TERM_AWARE}
`,
    );
    const [pod] = await cluster.waitForRunning('duo', 1, 120_000);
    const web = await containerOf(pod!.name, 'web');
    const side = await containerOf(pod!.name, 'side');
    // localhost of one container is the other's.
    const viaLocalhost = await eventually(async () => {
      try {
        return execIn(side, ['wget', '-qO-', 'http://localhost:8080/']);
      } catch {
        return undefined;
      }
    }, 30_000, 'side reaches web on localhost');
    expect(viaLocalhost.trim()).toBe(pod!.name); // the pod's hostname is its name
    for (const ns of ['net', 'ipc', 'uts']) expect(nsOf(side.pid, ns), ns).toBe(nsOf(web.pid, ns));
    expect(nsOf(side.pid, 'pid')).not.toBe(nsOf(web.pid, 'pid'));
    const hosts = execIn(side, ['cat', '/etc/hosts']);
    expect(hosts).toMatch(new RegExp(`^10\\.\\d+\\.\\d+\\.\\d+\\t${pod!.name}$`, 'm'));
    // The same address in the pod's status (`get pods -o wide`).
    const ownIP = /^(\S+)\t/m.exec(hosts.split('\n').find((l) => l.endsWith(`\t${pod!.name}`)) ?? '')?.[1];
    const wide = await eventually(async () => {
      const out = (await cluster.grove(['get', 'pods', '-o', 'wide'])).stdout;
      return ownIP && out.includes(ownIP) ? out : undefined;
    }, 30_000, 'the pod IP in get pods -o wide');
    expect(wide).toMatch(new RegExp(`${pod!.name}.*${ownIP!.replaceAll('.', '\\.')}`));
    // The hostPort, from the host and from a LAN peer.
    expect((await eventually(async () => tryGet(`http://127.0.0.1:${hostPort}/`), 30_000, 'hostPort from the host')).trim()).toBe(pod!.name);
    expect((await eventually(async () => tryGet(`http://${lan!.hostIp}:${hostPort}/`, lan!.ns), 30_000, 'hostPort from the LAN peer')).trim()).toBe(pod!.name);
    expect((await cluster.grove(['describe', 'deployment', 'duo'])).stdout).toMatch(new RegExp(`Port:\\s+8080/TCP \\(http\\)\\n\\s+Host Port:\\s+${hostPort}/TCP\\n`));
    // waitForRunning waited for ready: the agent's httpGet probe reached the pod in its CNI namespace.
  }, 240_000);

  it('lets two apps on one node reach each other by app name, and keeps /etc/hosts current', async () => {
    await apply('alpha', `        - name: web\n          image: ${image()}\n          command: ${serve(8081)}\n`);
    await apply('beta', `        - name: main\n          image: ${image()}\n          command: ${TERM_AWARE}\n`);
    const [alpha] = await cluster.waitForRunning('alpha', 1, 120_000);
    const [beta] = await cluster.waitForRunning('beta', 1, 120_000);
    const main = await containerOf(beta!.name, 'main');
    const answer = await eventually(async () => {
      try {
        return execIn(main, ['wget', '-qO-', 'http://alpha:8081/']);
      } catch {
        return undefined;
      }
    }, 60_000, 'beta reaches alpha by name');
    expect(answer.trim()).toBe(alpha!.name);
    // The file was bound in before alpha existed for some pods: it is rewritten in place.
    await remove('alpha');
    await eventually(async () => !execIn(main, ['cat', '/etc/hosts']).includes('\talpha\n'), 60_000, 'alpha leaves /etc/hosts of beta');
  }, 240_000);

  it('leaves the second pod claiming a hostPort Pending with a clear reason and keeps the first serving', async () => {
    await apply('first', `        - name: web\n          image: ${image()}\n          command: ${serve(8080)}\n          ports: [{ containerPort: 8080, hostPort: ${otherPort} }]\n`);
    await cluster.waitForRunning('first', 1, 120_000);
    await apply('second', `        - name: web\n          image: ${image()}\n          command: ${serve(8080)}\n          ports: [{ containerPort: 8080, hostPort: ${otherPort} }]\n`);
    const described = await eventually(async () => {
      const out = (await cluster.grove(['describe', 'deployment', 'second'])).stdout;
      return /FailedScheduling/.test(out) ? out : undefined;
    }, 60_000, 'the conflict in describe');
    expect(described).toMatch(/FailedScheduling:\s+0\/1 nodes are available: 1 node\(s\) didn't have free ports for the requested pod ports \(1 pod Pending\)\n/);
    expect((await cluster.containers('node-a')).some((c) => c.labels['grove.app'] === 'second')).toBe(false);
    expect(tryGet(`http://127.0.0.1:${otherPort}/`)?.trim()).toMatch(/^first-/);
    await remove('second');
    await remove('first');
  }, 240_000);

  it('leaks nothing when pods are deleted after a kill -9 of the agent and a restart', async () => {
    const pods = await cluster.pods();
    const live = pods.filter((p) => p.app === 'duo' || p.app === 'beta');
    expect(live.length).toBe(2);
    const records = readdirSafe(join(agentDir, 'agent', 'sandboxes')).map((f) => JSON.parse(readFileSync(join(agentDir, 'agent', 'sandboxes', f), 'utf8')) as { id: string; ip?: string; pod: string });
    const ours = records.filter((r) => live.some((p) => p.name === r.pod));
    expect(ours.length).toBe(2);
    // What the checks below must see gone is there now.
    // (The sandboxes of the apps deleted above go once their containers are gone: waited for.)
    const before = await eventually(async () => {
      const t = traces();
      return t.leases.length === 2 && t.runDir.length === 2 ? t : undefined;
    }, 60_000, 'only the two live pods hold sandboxes');
    expect(before.veths.match(/veth/g)).toHaveLength(2);
    for (const r of ours) expect(before.rules).toContain(r.id);
    await cluster.killAgent('node-a', 'SIGKILL');
    await cluster.startAgent('node-a');
    await remove('duo');
    await remove('beta');
    await eventually(async () => (await cluster.containers('node-a')).length === 0, 90_000, 'containers removed');
    await eventually(async () => {
      const t = traces();
      return t.veths.trim() === '' && t.leases.length === 0 && t.runDir.length === 0 ? t : undefined;
    }, 90_000, 'veths, leases and namespace files gone');
    const t = traces();
    for (const r of ours) {
      expect(t.rules).not.toContain(r.id);
      if (r.ip) expect(t.rules).not.toMatch(new RegExp(`${r.ip.replace(/\./g, '\\.')}\\b`));
      expect(t.netns).not.toContain(r.id);
    }
    expect(readdirSafe(join(agentDir, 'agent', 'sandboxes'))).toEqual([]);
    expect(readdirSafe(join(agentDir, 'cni', 'pod-attachments'))).toEqual([]);
    // The sandbox ids' namespace files were unmounted, not just hidden.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(sandboxRunDir(agentDir));
    expect(existsSync(sandboxRunDir(agentDir)) ? statSync(sandboxRunDir(agentDir)).isDirectory() : true).toBe(true);
  }, 300_000);
});

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return '';
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
