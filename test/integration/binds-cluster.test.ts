import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Mounts as public compose files and manifests write them, through a one-node cluster with real
 * containers: compose binds of an existing file (from the project directory), a Unix socket and
 * /etc/localtime are mounted as what they are, and only a missing source becomes a directory;
 * a subPath file under another volume's mount point is visible whatever order they are listed in.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'compose binds and mount order in a cluster (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let socket: Server | undefined;
  const tag = randomBytes(3).toString('hex');

  const image = (): string => `${env!.registry.host}/test/busybox:1`;
  /** Runs `script` once, then idles until SIGTERM. */
  const command = (script: string): string => JSON.stringify(['sh', '-c', `${script}; trap 'exit 0' TERM; while true; do sleep 1; done`]);
  const apply = async (name: string, text: string) => {
    const file = join(env!.scratch, name);
    await writeFile(file, text);
    const r = await cluster.grove(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  /** The logs of `workload` (job/NAME, deploy/NAME) once they hold `marker`. */
  const logsOf = (workload: string, marker: string) =>
    eventually(async () => {
      const out = (await cluster.grove(['logs', workload])).stdout;
      return out.includes(marker) ? out : undefined;
    }, 120_000, `${workload} prints ${marker}`);

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-binds-cluster-', 'node-a');
    cluster = env.cluster;
  }, 240_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    await env?.destroy();
  });

  it('mounts a project file, a Unix socket and /etc/localtime as what they are; makes a missing source a directory', async () => {
    const app = `binds-${tag}`;
    await writeFile(join(env!.scratch, 'Caddyfile'), `caddy-${tag}\n`);
    const sockPath = join(env!.scratch, 'app.sock');
    socket = createServer((c) => c.end());
    await new Promise<void>((resolve, reject) => socket!.once('error', reject).listen(sockPath, resolve));
    const kinds = ['/etc/caddy/Caddyfile', '/etc/localtime', '/run/app.sock', '/srv/site']
      .map((p) => `if [ -S ${p} ]; then echo "${p} socket"; elif [ -f ${p} ]; then echo "${p} file"; elif [ -d ${p} ]; then echo "${p} dir"; else echo "${p} missing"; fi`)
      .join('; ');
    await apply(
      'compose.yaml',
      // Project "default": the objects go to the default namespace, where `grove logs` looks.
      `name: default
services:
  ${app}:
    image: ${image()}
    command: ${command(`${kinds}; cat /etc/caddy/Caddyfile; echo done-${tag}`)}
    stop_grace_period: 1s
    volumes:
      - ./Caddyfile:/etc/caddy/Caddyfile
      - /etc/localtime:/etc/localtime:ro
      - ${sockPath}:/run/app.sock
      - ./site:/srv/site
`,
    );
    // No restart: key, so the service is a Job (compose's default restart "no").
    const out = await logsOf(`job/${app}`, `done-${tag}`);
    expect(out.split('\n').filter((l) => l.startsWith('/'))).toEqual(['/etc/caddy/Caddyfile file', '/etc/localtime file', '/run/app.sock socket', '/srv/site dir']);
    expect(out).toContain(`caddy-${tag}`);
    // Only the missing source was made, as a directory; the socket is still the socket.
    expect((await stat(join(env!.scratch, 'site'))).isDirectory()).toBe(true);
    expect((await stat(sockPath)).isSocket()).toBe(true);
    expect((await cluster.grove(['delete', 'job', app])).code).toBe(0);
  }, 240_000);

  it('keeps a subPath file visible under a volume mounted on its parent directory, whatever the listed order', async () => {
    const app = `order-${tag}`;
    const file = { name: 'conf', mountPath: '/etc/app/app.conf', subPath: 'app.conf' };
    const dir = { name: 'data', mountPath: '/etc/app' };
    const container = (name: string, mounts: object[]) => `        - name: ${name}
          image: ${image()}
          command: ${command(`echo "${name} $(cat /etc/app/app.conf)"`)}
          volumeMounts: ${JSON.stringify(mounts)}
`;
    await apply(
      'order.yaml',
      `apiVersion: v1
kind: ConfigMap
metadata: { name: ${app} }
data: { app.conf: "setting-${tag}" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app} }
spec:
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      terminationGracePeriodSeconds: 1
      volumes:
        - { name: conf, configMap: { name: ${app} } }
        - { name: data, emptyDir: {} }
      containers:
${container('file-first', [file, dir])}${container('dir-first', [dir, file])}`,
    );
    const out = await logsOf(`deploy/${app}`, 'dir-first');
    await logsOf(`deploy/${app}`, 'file-first');
    const lines = (await cluster.grove(['logs', `deploy/${app}`])).stdout.split('\n').filter(Boolean).sort();
    expect(lines).toEqual([`dir-first setting-${tag}`, `file-first setting-${tag}`]);
    expect(out).not.toContain('No such file');
    expect((await cluster.grove(['delete', '-f', join(env!.scratch, 'order.yaml')])).code).toBe(0);
  }, 240_000);
});
