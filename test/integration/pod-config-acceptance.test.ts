import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/**
 * Issue 5 acceptance across its parts, with real containers: an init container's output reaches
 * the main container through an emptyDir; a Secret reaches the container as a variable and as a
 * file, and its value appears in no server or agent log (debug level), no API or CLI output
 * without --show-values, and no file on the node's disk (only its tmpfs).
 */
const VALUE = `s3cr3t-${randomBytes(9).toString('hex')}`;
const MD5 = createHash('md5').update(VALUE).digest('hex');

describeWith(['root', 'runc', 'registry', 'shim'], 'pods: init containers, emptyDir and Secrets (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-pod-config-', 'node-a', { env: { GROVE_LOG_LEVEL: 'debug' } });
    cluster = env.cluster;
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('an init container seeds an emptyDir for the main container, which also gets a Secret as env and file', async () => {
    const image = `${env!.registry.host}/test/busybox:1`;
    const file = join(env!.scratch, 'app.yaml');
    await writeFile(
      file,
      `apiVersion: v1
kind: Secret
metadata: { name: creds }
stringData: { token: ${VALUE} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: seeded }
spec:
  selector: { matchLabels: { app: seeded } }
  template:
    metadata: { labels: { app: seeded } }
    spec:
      terminationGracePeriodSeconds: 1
      volumes:
        - { name: work, emptyDir: {} }
        - { name: creds, secret: { secretName: creds } }
      initContainers:
        - name: seed
          image: ${image}
          command: ["sh", "-c", "echo SEEDED-by-init > /work/seed.txt"]
          volumeMounts: [{ name: work, mountPath: /work }]
      containers:
        - name: main
          image: ${image}
          env:
            - name: TOKEN
              valueFrom: { secretKeyRef: { name: creds, key: token } }
          volumeMounts:
            - { name: work, mountPath: /work }
            - { name: creds, mountPath: /etc/creds, readOnly: true }
          command:
            - sh
            - -c
            - |
              cat /work/seed.txt
              echo "ENV-MD5 $(printf %s "$TOKEN" | md5sum | cut -d' ' -f1)"
              echo "FILE-MD5 $(md5sum < /etc/creds/token | cut -d' ' -f1)"
              trap 'exit 0' TERM; while true; do sleep 1; done
`,
    );
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    await cluster.waitForRunning('seeded', 1, 120_000);
    const out = await eventually(async () => {
      const text = (await cluster.grove(['logs', 'deploy/seeded'])).stdout;
      return text.includes('FILE-MD5') ? text : undefined;
    }, 60_000, 'the main container ran');
    expect(out).toContain('SEEDED-by-init');
    expect(out).toContain(`ENV-MD5 ${MD5}`);
    expect(out).toContain(`FILE-MD5 ${MD5}`);

    const outputs = [
      await cluster.grove(['get', 'secret', 'creds', '-o', 'yaml']),
      await cluster.grove(['get', 'secrets']),
      await cluster.grove(['describe', 'secret', 'creds']),
      await cluster.grove(['describe', 'deployment', 'seeded']),
      await cluster.grove(['describe', 'pods']),
      await cluster.grove(['get', 'pods', '-o', 'json']),
      await cluster.grove(['get', 'deployment', 'seeded', '-o', 'yaml']),
      await cluster.grove(['get', 'rs,pods', '-o', 'yaml']),
    ].map((r) => r.stdout + r.stderr);
    const logs = [cluster.serverLog, cluster.agents.get('node-a')!.log];
    for (const needle of [VALUE, Buffer.from(VALUE).toString('base64')]) {
      for (const text of [...outputs, ...logs]) expect(text).not.toContain(needle);
    }
    // Nor on the node's disk: not in config.json, the runtime's state, the container record or
    // the stored bundle. Only tmpfs (RAM) holds it: the Secret volume and the env-exec file.
    const agentDir = cluster.agents.get('node-a')!.dir;
    const tmpfsMounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter((l) => l.includes(' - tmpfs '))
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${agentDir}/`));
    expect(tmpfsMounts.length).toBeGreaterThanOrEqual(2);
    const onDisk: string[] = [];
    for (const entry of await readdir(agentDir, { withFileTypes: true, recursive: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || tmpfsMounts.some((m) => path.startsWith(`${m}/`))) continue;
      if ((await readFile(path).catch(() => Buffer.alloc(0))).includes(VALUE)) onDisk.push(path);
    }
    expect(onDisk).toEqual([]);

    // --show-values prints the Secret as stored: its data base64, as kubectl prints it.
    const shown = await cluster.grove(['get', 'secret', 'creds', '-o', 'yaml', '--show-values']);
    expect(shown.stdout).toContain(`token: ${Buffer.from(VALUE).toString('base64')}`);
  }, 300_000);
});
