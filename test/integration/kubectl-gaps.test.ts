/**
 * Issue 14's remaining pieces with the real kubectl against `grove server --tls` and one real
 * agent (busybox from the test registry, runc): a delete's grace period reaches the node, a new
 * pod is Pending, attach follows a container's output, Event tables have Kubernetes' columns,
 * discovery lists the pod subresources, and grove's --field-selector is the server's.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'kubectl: grace periods, attach, event columns, subresources', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let kubectl: Kubectl;
  let kubeconfig = '';

  /** A bare pod running `script` in busybox, with a long grace of its own. */
  const podFile = async (name: string, script: string, extra = ''): Promise<string> => {
    const file = join(env!.scratch, `${name}.yaml`);
    await writeFile(
      file,
      `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 600
${extra}  containers:
  - name: main
    image: ${env!.registry.host}/test/busybox:1
    command: ["sh", "-c", ${JSON.stringify(script)}]
`,
    );
    return file;
  };
  const running = async (name: string): Promise<void> => {
    const r = await kubectl('wait', '--for=jsonpath={.status.phase}=Running', `pod/${name}`, '--timeout=120s');
    expect(r.code, r.stderr).toBe(0);
  };
  const containersOf = async (pod: string) => (await cluster.runningContainers('node-a')).filter((c) => c.labels['grove.pod'] === pod);

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-kgaps-', 'node-a', { extraArgs: ['--tls'] });
    cluster = env.cluster;
    kubeconfig = await writeKubeconfig(env.scratch, cluster.serverDir);
    kubectl = kubectlWith(env.scratch, kubeconfig, 150_000);
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
  }, 60_000);

  it('a new pod is Pending; delete --grace-period=1 and --force --grace-period=0 stop a TERM-deaf container on the node before the pod is gone', async () => {
    // PID 1 ignores SIGTERM without a handler: only the SIGKILL after the grace stops it.
    const created = await kubectl('create', '-f', await podFile('deaf', 'while true; do sleep 1; done'), '-o', 'jsonpath={.status.phase}');
    expect(created, created.stderr).toMatchObject({ code: 0, stdout: 'Pending' });
    expect((await kubectl('create', '-f', await podFile('deaf-too', 'while true; do sleep 1; done'))).code).toBe(0);
    await running('deaf');
    await running('deaf-too');
    expect(await containersOf('deaf')).toHaveLength(1);
    // Without the grace reaching the node, the pod would vanish at once and its container run on for 600 s.
    const graceful = await kubectl('delete', 'pod', 'deaf', '--grace-period=1', '--timeout=120s');
    expect(graceful, graceful.stderr).toMatchObject({ code: 0, stdout: 'pod "deaf" deleted\n' });
    expect(await containersOf('deaf')).toEqual([]);
    const forced = await kubectl('delete', 'pod', 'deaf-too', '--force', '--grace-period=0', '--timeout=120s');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('Immediate deletion does not wait');
    await eventually(async () => (await containersOf('deaf-too')).length === 0, 30_000, 'deaf-too stopped at once');
  }, 300_000);

  it('attach follows the output until the container exits; -i is refused with the reason', async () => {
    await kubectl('create', '-f', await podFile('ticker', 'sleep 2; for i in $(seq 1 15); do echo tick $i; echo tock $i >&2; sleep 1; done', '  restartPolicy: Never\n'));
    await running('ticker');
    const attached = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'attach', 'ticker'], { env: { ...process.env, HOME: env!.scratch }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toContain('tick 15\n');
    expect(attached.stdout).not.toContain('tock');
    expect(attached.stderr).toContain('tock 15\n');
    // Output from before the attach is the log's, not attach's: the first lines are not repeated.
    expect(attached.stdout.split('\n').filter((l) => l === 'tick 15')).toHaveLength(1);
    await kubectl('create', '-f', await podFile('quiet', 'while true; do sleep 1; done'));
    await running('quiet');
    const input = await kubectl('attach', '-i', 'quiet');
    expect(input.code).not.toBe(0);
    expect(input.stderr).toContain("cannot attach to a container's stdin or terminal");
  }, 300_000);

  it('get events prints Kubernetes\' columns; -o wide adds SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME', async () => {
    const plain = await kubectl('get', 'events');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(plain.stdout).toMatch(/Normal\s+Scheduled\s+pod\/quiet\s+/);
    const wide = await kubectl('get', 'events', '-o', 'wide');
    expect(wide.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(wide.stdout).toMatch(/Normal\s+Started\s+pod\/quiet\s+spec\.containers\{main\}\s+kubelet, node-a\s+/);
    const grove = await cluster.grove(['get', 'events', '-o', 'wide']);
    expect(grove.code, grove.stderr).toBe(0);
    expect(grove.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
  }, 60_000);

  it('discovery lists the pod subresources: auth can-i create pods/exec, pods/attach, pods/portforward, pods/eviction', async () => {
    const list = JSON.parse((await kubectl('get', '--raw', '/api/v1')).stdout) as { resources: { name: string; kind: string; verbs: string[] }[] };
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    for (const [name, kind] of [['pods/exec', 'PodExecOptions'], ['pods/attach', 'PodAttachOptions'], ['pods/portforward', 'PodPortForwardOptions']]) {
      expect(byName.get(name!), name).toMatchObject({ kind, verbs: ['create', 'get'] });
    }
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['pods/log', 'pods/status', 'pods/eviction', 'nodes/status']));
    for (const sub of ['pods/exec', 'pods/attach', 'pods/portforward', 'pods/eviction', 'deployments/scale']) {
      const r = await kubectl('auth', 'can-i', 'create', sub);
      expect(r, sub).toMatchObject({ code: 0, stdout: 'yes\n', stderr: '' });
    }
  }, 60_000);

  it('grove get --field-selector answers as kubectl does (the server selects)', async () => {
    for (const selector of ['spec.nodeName=node-a', 'status.phase=Running', 'status.phase!=Running', 'metadata.name=quiet']) {
      const k = await kubectl('get', 'pods', '--field-selector', selector, '-o', 'name');
      const g = await cluster.grove(['get', 'pods', '--field-selector', selector, '-o', 'name']);
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout, selector).toBe(k.stdout);
    }
    const bad = await cluster.grove(['get', 'pods', '--field-selector', 'spec.color=red']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: spec.color');
  }, 60_000);
});
