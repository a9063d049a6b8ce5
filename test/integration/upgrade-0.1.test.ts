/**
 * Upgrade in place from Grove 0.1 (docs/operations.md "Upgrading from 0.1"): the pre-13 commit
 * is built in a temporary worktree, a 0.1 server and agent run real runc containers (a
 * Deployment of 2 replicas, a DaemonSet, a CronJob, a ConfigMap and a Secret mounted); both are
 * stopped and this version's server and agent start on the same data dirs. The store is
 * migrated at first start (one commit, one log line), every app is a Kubernetes object, and
 * not one container restarts.
 *
 * GROVE_0_1_CHECKOUT=<dir> reuses a built checkout of the 0.1 commit instead of building one
 * (for reruns while developing; the test builds and removes its own otherwise).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { roleStore, serverStorePath } from '../../src/cli/roles/store-fsck.js';
import { GroveKeys } from '../../src/core/keys.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeBackup, type Backup } from '../../src/store/backup.js';
import { killAndWait, TERM_AWARE, TEST_ENV, type CtrInspect } from '../support/cluster.js';
import { eventually, REPO_ROOT, runGrove, spawnGrove } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const run = promisify(execFile);

/** The last commit before issue 13 (Grove 0.1's store layout). */
const LEGACY_COMMIT = 'abd5294';

/** What the test uses of the 0.1 checkout's own test cluster (its dist/test/support/cluster.js). */
interface LegacyCluster {
  serverDir: string;
  apiPort: number;
  mqttPort: number;
  startServer(): Promise<void>;
  killServer(signal?: NodeJS.Signals): Promise<void>;
  startAgent(name: string, options?: { token?: string }): Promise<void>;
  killAgent(name: string, signal?: NodeJS.Signals): Promise<void>;
  agentDir(name: string): string;
  token(): Promise<string>;
  grove(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  waitForNodesReady(names: string[]): Promise<void>;
  waitForRunning(app: string, count: number, timeoutMs?: number): Promise<{ name: string; templateHash: string }[]>;
  pods(): Promise<{ name: string; app: string; templateHash: string }[]>;
  destroy(): Promise<void>;
}

/** Builds the 0.1 commit in a worktree of this repository under /tmp (unique name). */
async function buildLegacy(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const given = process.env.GROVE_0_1_CHECKOUT;
  if (given) return { dir: given, remove: async () => undefined };
  const dir = join(tmpdir(), `grove-0.1-${randomBytes(4).toString('hex')}`);
  const remove = async () => {
    await run('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', dir, LEGACY_COMMIT]);
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 64 << 20 });
    await run('npm', ['run', 'build'], { cwd: dir, maxBuffer: 64 << 20 });
  } catch (err) {
    await remove();
    throw err;
  }
  return { dir, remove };
}

const manifests = (image: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: web-config }
data: { greeting: hello }
---
apiVersion: v1
kind: Secret
metadata: { name: web-secret }
stringData: { password: s3cret }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: main
          image: ${image}
          command: ${TERM_AWARE}
          env: [{ name: PASSWORD, valueFrom: { secretKeyRef: { name: web-secret, key: password } } }]
          resources: { limits: { memory: 32Mi } }
          volumeMounts:
            - { name: conf, mountPath: /etc/web }
            - { name: secret, mountPath: /etc/secret, readOnly: true }
      volumes:
        - { name: conf, configMap: { name: web-config } }
        - { name: secret, secret: { secretName: web-secret } }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent-sidecar }
spec:
  selector: { matchLabels: { app: agent-sidecar } }
  template:
    metadata: { labels: { app: agent-sidecar } }
    spec:
      containers:
        - { name: main, image: ${image}, command: ${TERM_AWARE} }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: yearly }
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - { name: main, image: ${image}, command: ["true"] }
`;

describeWith(['root', 'runc', 'registry', 'shim'], 'upgrade from Grove 0.1 in place', () => {
  let legacy: { dir: string; remove: () => Promise<void> } | undefined;
  let registry: TestRegistry | undefined;
  let cluster: LegacyCluster | undefined;
  let scratch: string | undefined;
  const started: ChildProcess[] = [];
  let before: CtrInspect[] = [];
  let pods01: { name: string; app: string; templateHash: string }[] = [];

  /** Running containers on the node, read by this version's `grove ctr` from the agent's data dir. */
  async function running(): Promise<CtrInspect[]> {
    const dir = cluster!.agentDir('node-a');
    const ids = (await runGrove(['--data-dir', dir, 'ctr', 'ps', '-q'])).stdout.split('\n').filter(Boolean);
    const out: CtrInspect[] = [];
    for (const id of ids) {
      const r = await runGrove(['--data-dir', dir, 'ctr', 'inspect', id]);
      if (r.code === 0) out.push(JSON.parse(r.stdout) as CtrInspect);
    }
    return out.filter((c) => c.state === 'running').sort((a, b) => a.id.localeCompare(b.id));
  }

  function spawnNew(args: string[], env: NodeJS.ProcessEnv, ready: string, what: string): Promise<{ log: () => string }> {
    let log = '';
    const proc = spawnGrove(args, { ...TEST_ENV, ...env });
    started.push(proc);
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    return eventually(async () => log.includes(ready) || (proc.exitCode !== null && Promise.reject(new Error(`${what} exited:\n${log.slice(-3000)}`))), 60_000, what).then(() => ({
      log: () => log,
    }));
  }

  function serverArgs(): string[] {
    return ['--api-addr', `127.0.0.1:${cluster!.apiPort}`, '--mqtt-addr', `127.0.0.1:${cluster!.mqttPort}`, '--no-agent'];
  }

  async function backupOfNewServer(): Promise<Backup> {
    const file = join(scratch!, `after-${randomBytes(3).toString('hex')}.backup`);
    const r = await runGrove(['--data-dir', cluster!.serverDir, 'server', 'backup', file]);
    expect(r.code, r.stderr).toBe(0);
    return decodeBackup(await readFile(file));
  }

  beforeAll(async () => {
    legacy = await buildLegacy();
    scratch = await mkdtemp(join(tmpdir(), 'grove-upgrade-'));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    const { TestCluster } = (await import(join(legacy.dir, 'dist', 'test', 'support', 'cluster.js'))) as { TestCluster: { create(): Promise<LegacyCluster> } };
    cluster = await TestCluster.create();
    await cluster.startServer();
    await cluster.startAgent('node-a', { token: await cluster.token() });
    await cluster.waitForNodesReady(['node-a']);
    const file = join(scratch, 'apps.yaml');
    await writeFile(file, manifests(`${registry.host}/test/busybox:1`));
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    await cluster.waitForRunning('web', 2, 120_000);
    await cluster.waitForRunning('agent-sidecar', 1, 120_000);
    pods01 = await cluster.pods();
    before = await running();
    expect(before).toHaveLength(3);
    // Both stop as an operator stops them for an upgrade; their containers keep running.
    await cluster.killServer('SIGTERM');
    await cluster.killAgent('node-a', 'SIGTERM');
  }, 20 * 60_000);

  afterAll(async () => {
    for (const proc of started) await killAndWait(proc, 'SIGKILL');
    // The 0.1 cluster removes the containers, pod networks and data dirs it made.
    await cluster?.destroy().catch(() => undefined);
    await registry?.stop().catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await legacy?.remove();
  }, 120_000);

  it('migrates the 0.1 store at the first start of the new server, in one commit and one log line', async () => {
    const c = cluster!;
    const readStore = async () => {
      const store = roleStore('server', serverStorePath(c.serverDir), silentLogger());
      await store.open();
      try {
        return await store.snapshot();
      } finally {
        await store.close();
      }
    };
    const legacyRevision = (await readStore()).revision;
    // The upgrade happens before the broker and the controllers start. This first start stops
    // right after it (its MQTT port is taken), so the store holds the upgrade's commit and
    // nothing the controllers wrote after it.
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const heldPort = (held.address() as AddressInfo).port;
    let log = '';
    try {
      const proc = spawnGrove(['--data-dir', c.serverDir, 'server', '--api-addr', `127.0.0.1:${c.apiPort}`, '--mqtt-addr', `127.0.0.1:${heldPort}`, '--no-agent'], { ...TEST_ENV, GROVE_LOG_LEVEL: 'info' });
      started.push(proc);
      proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await eventually(async () => proc.exitCode !== null, 60_000, 'the first start to stop at the taken MQTT port');
      expect(proc.exitCode, log.slice(-3000)).toBe(1);
    } finally {
      await new Promise((r) => held.close(r));
    }
    expect(log).toContain(`port ${heldPort} is already in use (--mqtt-addr 127.0.0.1:${heldPort})`);
    expect(log.match(/store upgraded from Grove 0\.1 in one commit/g), log.slice(-3000)).toHaveLength(1);
    expect(log).toMatch(/store upgraded from Grove 0\.1 in one commit: 3 workloads, 1 replicasets, 1 controllerrevisions, 4 pods, 1 nodes, 1 configmaps, 1 secrets/);

    const snapshot = await readStore();
    // One commit: the store moved by exactly one revision, and every object the upgrade wrote carries it.
    expect(snapshot.revision).toBe(legacyRevision + 1);
    const keys = new Map(snapshot.entries.map((e) => [e.key, e]));
    expect(keys.get(GroveKeys.schemaVersion)?.value).toMatchObject({ version: 2, migratedFrom: '0.1' });
    // One commit: every object the upgrade wrote carries the same store revision.
    const upgradedAt = keys.get(GroveKeys.schemaVersion)!.revision;
    expect(upgradedAt).toBe(snapshot.revision);
    for (const key of ['deployments/default/web', 'daemonsets/default/agent-sidecar', 'cronjobs/default/yearly', 'configmaps/default/web-config', 'secrets/default/web-secret', 'nodes/node-a', GroveKeys.nodeCredential('node-a'), GroveKeys.cluster]) {
      expect(keys.get(key)?.revision, key).toBe(upgradedAt);
    }
    expect([...keys.keys()].filter((k) => /^(apps|revisions|rollouts|tokens|targets|nodekeys|configs)\//.test(k) || k === 'cluster')).toEqual([]);
    // Every 0.1 pod is a Pod of the same name, bound to the same node, with its 0.1 hash.
    for (const p of pods01) {
      const pod = keys.get(`pods/default/${p.name}`)?.value as { spec: { nodeName?: string }; metadata: { labels: Record<string, string> } } | undefined;
      expect(pod, p.name).toBeDefined();
      expect(pod!.spec.nodeName).toBe('node-a');
      expect(Object.values(pod!.metadata.labels)).toContain(p.templateHash);
    }
    const webHash = pods01.find((p) => p.app === 'web')!.templateHash;
    expect(keys.has(`replicasets/default/web-${webHash}`)).toBe(true);
  }, 120_000);

  it('starts the new server on the upgraded store and serves every app as a Kubernetes object', async () => {
    const c = cluster!;
    const server = await spawnNew(['--data-dir', c.serverDir, 'server', ...serverArgs()], { GROVE_LOG_LEVEL: 'info' }, 'grove server ready', 'new server');
    // Upgraded once: this start finds the object layout and upgrades nothing.
    expect(server.log()).not.toContain('store upgraded');
    const backup = await backupOfNewServer();
    expect(backup.header.storeSchema).toBe(2);
    const { token } = JSON.parse(await readFile(join(c.serverDir, 'client.json'), 'utf8')) as { token: string };
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${c.apiPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      return (await res.json()) as { items?: { metadata: { name: string } }[]; metadata: { name: string } };
    };
    expect((await get('/apis/apps/v1/namespaces/default/deployments/web')).metadata.name).toBe('web');
    expect((await get('/apis/apps/v1/namespaces/default/daemonsets/agent-sidecar')).metadata.name).toBe('agent-sidecar');
    expect((await get('/apis/batch/v1/namespaces/default/cronjobs/yearly')).metadata.name).toBe('yearly');
    const pods = await get('/api/v1/namespaces/default/pods');
    expect(pods.items!.map((p) => p.metadata.name).sort()).toEqual(pods01.map((p) => p.name).sort());
    expect((await get('/api/v1/nodes/node-a')).metadata.name).toBe('node-a');
    expect((await get('/api/v1/namespaces/default/configmaps/web-config')).metadata.name).toBe('web-config');
    expect((await get('/api/v1/namespaces/default/secrets/web-secret')).metadata.name).toBe('web-secret');

    // And `grove get`, as the operator checks after the upgrade.
    const grove = async (...args: string[]) => {
      const r = await runGrove(['--data-dir', c.serverDir, ...args]);
      expect(r.code, `grove ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const names = (out: string) => out.trim().split('\n').sort();
    expect(names(await grove('get', 'deploy,ds,cronjobs', '-o', 'name'))).toEqual(['cronjob.batch/yearly', 'daemonset.apps/agent-sidecar', 'deployment.apps/web']);
    expect(names(await grove('get', 'configmaps,secrets', '-o', 'name'))).toEqual(['configmap/web-config', 'secret/web-secret']);
    expect(names(await grove('get', 'pods', '-o', 'name'))).toEqual(pods01.map((p) => `pod/${p.name}`).sort());
    const deployments = await grove('get', 'deploy');
    expect(deployments).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(deployments).toMatch(/^web\s+\d\/2\s/m);
    expect(await grove('get', 'cronjobs')).toMatch(/^yearly\s+0 0 1 1 \*\s/m);
  }, 120_000);

  // With the server above running (after the switch to objects), the agent also receives the
  // migrated pods as its target; either way its 0.1 containers must stay as they are.
  it('restarts no container when the new agent starts on the 0.1 agent data dir', async () => {
    await spawnNew(['--data-dir', cluster!.agentDir('node-a'), 'agent', '--node-name', 'node-a'], {}, 'grove agent running', 'new agent');
    // Several reconcile rounds and heartbeats (1 s) later, the same containers still run.
    await new Promise((r) => setTimeout(r, 10_000));
    const after = await running();
    expect(after.map((c) => ({ id: c.id, startedAt: c.startedAt, pid: c.pid }))).toEqual(before.map((c) => ({ id: c.id, startedAt: c.startedAt, pid: c.pid })));
    // The adopted containers are the Pods' containers: the new server sees them running and ready.
    const c = cluster!;
    await eventually(async () => {
      const r = await runGrove(['--data-dir', c.serverDir, 'get', 'deploy', 'web']);
      return /^web\s+2\/2\s+2\s+2\s/m.test(r.stdout);
    }, 60_000, 'web 2/2 in grove get deploy');
    const ds = await runGrove(['--data-dir', c.serverDir, 'get', 'ds', 'agent-sidecar']);
    expect(ds.stdout).toMatch(/^agent-sidecar\s+1\s+1\s+1\s+1\s+1\s/m);
    const pods = await runGrove(['--data-dir', c.serverDir, 'get', 'pods']);
    for (const p of pods01.filter((x) => x.app !== 'yearly')) expect(pods.stdout).toMatch(new RegExp(`^${p.name}\\s+1/1\\s+Running\\s+0\\s`, 'm'));
    // Still not one restart.
    expect((await running()).map((x) => ({ id: x.id, startedAt: x.startedAt, pid: x.pid }))).toEqual(before.map((x) => ({ id: x.id, startedAt: x.startedAt, pid: x.pid })));
  }, 180_000);

});

