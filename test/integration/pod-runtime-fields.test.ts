import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TERM_AWARE, type CtrInspect, type TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * The pod runtime fields on a real node (server + agent, runc, CNI sandbox): a busybox pod with
 * hostPID, hostIPC, hostAliases, a namespaced sysctl and fsGroup on an emptyDir, checked from
 * inside the container — a host process (this test's own) in its /proc, the host's PID and IPC
 * namespaces, the alias line in its /etc/hosts, the sysctl's value in its network namespace
 * (the host's left as it was), the volume's group and the container's supplementary groups.
 */
describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables'], 'pod runtime fields (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let agentDir = '';

  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const execIn = (c: CtrInspect, argv: string[]): string => sh('runc', ['--root', join(agentDir, 'run', 'runc'), 'exec', c.id, ...argv]).trim();

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pod-runtime-', 'node-a');
    cluster = env.cluster;
    agentDir = cluster.agentDir('node-a');
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  }, 120_000);

  it('runs a pod on the host PID and IPC namespaces with its aliases, sysctl and fsGroup', async () => {
    const hostPortStart = sh('cat', ['/proc/sys/net/ipv4/ip_unprivileged_port_start']).trim();
    const wanted = hostPortStart === '81' ? '82' : '81';
    const file = join(env!.scratch, 'rt.yaml');
    await writeFile(
      file,
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: rt }
spec:
  selector: { matchLabels: { app: rt } }
  template:
    metadata: { labels: { app: rt } }
    spec:
      terminationGracePeriodSeconds: 1
      hostPID: true
      hostIPC: true
      hostAliases:
        - ip: 10.1.2.3
          hostnames: [nas.lan, nas]
      securityContext:
        fsGroup: 2345
        sysctls: [{ name: net.ipv4.ip_unprivileged_port_start, value: "${wanted}" }]
      volumes: [{ name: data, emptyDir: {} }]
      containers:
        - name: main
          image: ${env!.registry.host}/test/busybox:1
          command: ${TERM_AWARE}
          securityContext: { runAsUser: 1000 }
          volumeMounts: [{ name: data, mountPath: /data }]
`,
    );
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    const [pod] = await cluster.waitForRunning('rt', 1, 120_000);
    const c = await eventually(async () => (await cluster.runningContainers('node-a')).find((x) => x.name === `${pod!.name}_main`), 60_000, 'rt running');

    expect(execIn(c, ['ls', '/proc']).split(/\s+/)).toContain(String(process.pid));
    // The container's namespaces, read on the host from its process (busybox here has no readlink).
    for (const ns of ['pid', 'ipc']) expect(readlinkSync(`/proc/${c.pid}/ns/${ns}`), ns).toBe(readlinkSync(`/proc/self/ns/${ns}`));
    expect(readlinkSync(`/proc/${c.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(execIn(c, ['cat', '/etc/hosts'])).toMatch(/\n# Entries added by HostAliases\.\n10\.1\.2\.3\tnas\.lan\tnas\n?$/);
    expect(execIn(c, ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'])).toBe(wanted);
    expect(sh('cat', ['/proc/sys/net/ipv4/ip_unprivileged_port_start']).trim()).toBe(hostPortStart);
    expect(execIn(c, ['stat', '-c', '%g', '/data'])).toBe('2345');
    expect(execIn(c, ['id', '-G']).split(' ')).toContain('2345');
    // The group is inherited (setgid directory) and the user, not root, may write.
    expect(execIn(c, ['sh', '-c', 'touch /data/f && stat -c %g /data/f'])).toBe('2345');

    const removed = await cluster.grove(['delete', 'deployment', 'rt']);
    expect(removed.code, removed.stderr).toBe(0);
  }, 240_000);
});
