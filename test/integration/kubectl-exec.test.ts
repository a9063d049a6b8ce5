/**
 * Issue 14 part E: the real kubectl's exec, cp and port-forward against a `grove server --tls`
 * with two nodes, each pod's streams relayed over MQTT from its node (node-a and node-b are
 * both remote to the server: it runs no agent of its own). Real containers (busybox from the
 * test registry, runc), a kubeconfig with the cluster CA and the admin token.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { freePort } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';



interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'kubectl exec, cp and port-forward', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let kubeconfig = '';
  const pods: Record<string, string> = {};

  const kubectl = async (args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: env!.scratch, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });

  /** `kubectl port-forward pod/POD LOCAL:remote` in the background, on a free local port. */
  const portForward = async (pod: string, remote: number) => {
    const port = await freePort();
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'port-forward', `pod/${pod}`, `${port}:${remote}`], { env: { ...process.env, HOME: env!.scratch }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    return { port, output: () => text, stop: () => child.kill('SIGTERM') };
  };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-kexec-', 'node-a', { extraArgs: ['--tls'] });
    cluster = env.cluster;
    await cluster.startAgent('node-b', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a', 'node-b']);
    const client = JSON.parse(await readFile(join(cluster.serverDir, 'client.json'), 'utf8')) as { apiUrl: string; token: string; caCert: string };
    kubeconfig = join(env.scratch, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: grove, cluster: {server: "${client.apiUrl}", certificate-authority-data: ${Buffer.from(client.caCert).toString('base64')}}}]`,
        `users: [{name: admin, user: {token: "${client.token}"}}]`,
        'contexts: [{name: grove, context: {cluster: grove, user: admin}}]',
        'current-context: grove',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const image = `${env.registry.host}/test/busybox:1`;
    const deployment = (node: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web-${node} }
spec:
  replicas: 1
  selector: { matchLabels: { app: web-${node} } }
  template:
    metadata: { labels: { app: web-${node} } }
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: { kubernetes.io/hostname: ${node} }
      containers:
      - name: web
        image: ${image}
        env: [{ name: GREETING, value: hello-from-${node} }]
        command: ["sh", "-c", "mkdir -p /www && echo served-by-${node} > /www/index.html && exec httpd -f -p 8080 -h /www"]
`;
    const file = join(env.scratch, 'web.yaml');
    await writeFile(file, `${deployment('node-a')}---\n${deployment('node-b')}`);
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    for (const node of ['node-a', 'node-b']) {
      const [pod] = await cluster.waitForRunning(`web-${node}`, 1, 90_000);
      expect(pod!.node).toBe(node);
      pods[node] = pod!.name;
    }
  }, 240_000);

  afterAll(async () => {
    await env?.destroy();
  }, 60_000);

  for (const node of ['node-a', 'node-b']) {
    it(`exec on ${node}: output, environment, exit code, stdin`, async () => {
      const pod = pods[node]!;
      const hi = await kubectl(['exec', pod, '--', 'echo', 'hi']);
      expect(hi, hi.stderr).toMatchObject({ code: 0, stdout: 'hi\n' });
      const envVar = await kubectl(['exec', pod, '--', 'sh', '-c', 'echo $GREETING; echo oops >&2']);
      expect(envVar.code, envVar.stderr).toBe(0);
      expect(envVar.stdout).toBe(`hello-from-${node}\n`);
      expect(envVar.stderr).toContain('oops');
      const three = await kubectl(['exec', pod, '--', 'sh', '-c', 'exit 3']);
      expect(three.code, three.stderr).toBe(3);
      const input = 'line one\nline two\n'.repeat(5000);
      const cat = await kubectl(['exec', '-i', pod, '--', 'sh', '-c', 'wc -c; echo done'], { input });
      expect(cat.code, cat.stderr).toBe(0);
      expect(cat.stdout).toBe(`${Buffer.byteLength(input)}\ndone\n`);
    }, 120_000);
  }

  it('exec -it runs through a terminal (util-linux script gives kubectl a pty)', async () => {
    const pod = pods['node-b']!;
    const cmd = `kubectl --kubeconfig ${kubeconfig} exec -it ${pod} -- sh -c 'tty; stty size; exit 4'`;
    const r = await new Promise<Result>((resolve) => {
      const child = spawn('script', ['-qec', `stty rows 33 cols 101; ${cmd}`, '/dev/null'], { env: { ...process.env, HOME: env!.scratch }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: '' }));
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('33 101');
    expect(r.code, r.stdout).toBe(4);
  }, 90_000);

  it('errors reach kubectl as Kubernetes words', async () => {
    const missing = await kubectl(['exec', 'nope', '--', 'true']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('pods "nope" not found');
    const badContainer = await kubectl(['exec', pods['node-a']!, '-c', 'other', '--', 'true']);
    expect(badContainer.code).not.toBe(0);
    expect(badContainer.stderr).toMatch(/container (other )?.*not (valid|found)/);
  }, 60_000);

  it('kubectl cp copies a file into a pod on a remote node and back, byte for byte', async () => {
    const pod = pods['node-b']!;
    const dir = join(env!.scratch, 'cp');
    await mkdir(dir, { recursive: true });
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await writeFile(join(dir, 'blob.bin'), data);
    const up = await kubectl(['cp', join(dir, 'blob.bin'), `${pod}:/tmp/blob.bin`]);
    expect(up.code, up.stderr).toBe(0);
    const size = await kubectl(['exec', pod, '--', 'sh', '-c', 'wc -c < /tmp/blob.bin']);
    expect(size.stdout.trim()).toBe(String(data.length));
    const down = await kubectl(['cp', `${pod}:/tmp/blob.bin`, join(dir, 'back.bin')]);
    expect(down.code, down.stderr).toBe(0);
    expect((await readFile(join(dir, 'back.bin'))).equals(data)).toBe(true);
  }, 90_000);

  it('kubectl port-forward reaches busybox httpd in a pod on a remote node', async () => {
    const { port, output, stop } = await portForward(pods['node-b']!, 8080);
    try {
      await eventually(async () => output().includes('Forwarding from'), 30_000, `port-forward ready: ${output()}`);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
        expect(await res.text()).toBe('served-by-node-b\n');
      }
    } finally {
      stop();
    }
  }, 90_000);

  it('port-forward to a port nothing listens on: kubectl prints the node\'s error; attach -i is refused', async () => {
    const pod = pods['node-a']!;
    const { port, output, stop } = await portForward(pod, 9999);
    try {
      await eventually(async () => output().includes('Forwarding from'), 30_000, `port-forward ready: ${output()}`);
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) }).then(
        () => undefined,
        () => undefined,
      );
      await eventually(async () => output().includes('error forwarding port 9999'), 15_000, `the error in kubectl's output: ${output()}`);
      expect(output()).toMatch(/failed to connect to .*9999: connect ECONNREFUSED/);
    } finally {
      stop();
    }
    // attach without -i follows the output (kubectl-gaps.test.ts); there is no stdin to attach to.
    const attach = await kubectl(['attach', '-i', pod]);
    expect(attach.code).not.toBe(0);
    expect(attach.stderr).toContain("cannot attach to a container's stdin or terminal");
  }, 90_000);

  it('grove exec runs a command in a pod and in a Deployment, exit code passed through', async () => {
    const pod = pods['node-a']!;
    const hi = await cluster.grove(['exec', pod, '--', 'echo', 'hi']);
    expect(hi.stdout, hi.stderr).toBe('hi\n');
    expect(hi.code).toBe(0);
    const viaDeploy = await cluster.grove(['exec', 'deploy/web-node-b', '--', 'sh', '-c', 'echo $GREETING; exit 5']);
    expect(viaDeploy.stdout).toBe('hello-from-node-b\n');
    expect(viaDeploy.code).toBe(5);
  }, 60_000);
});


