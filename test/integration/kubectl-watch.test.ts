/**
 * Lists and watches driven by the real kubectl (issue 14, part C): `get -w` sees a pod become
 * Running, `--output-watch-events`, `--chunk-size` paging, `--field-selector`, `rollout status`
 * (a watch), and the 410 of a watch from a resourceVersion the server no longer keeps. One
 * `grove server --tls` with two hollow nodes (the agent's code over an in-memory runtime: pods
 * are scheduled and run without containers). Also measures the server's RSS with 100 idle
 * watches against none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HollowFleet } from '../../agent/src/hollow/hollow-fleet.js';
import { silentLogger } from '../../src/core/logger.js';
import { TestCluster } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { describeWith } from '../support/prereq.js';

const MIB = 1024 * 1024;

const deployment = (name: string, replicas: number, version = 1) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: main, image: hollow.invalid/${name}:${version}, command: [sleep, "3600"]}]}
`;

/** A kubectl that runs until stopped, its output collected as it comes. */
interface Running {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  stop: () => Promise<void>;
}

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

describeWith(['kubectl'], 'kubectl lists and watches Grove', () => {
  let cluster: TestCluster;
  let fleet: HollowFleet | undefined;
  let home: string;
  let kubeconfig: string;
  let kubectl: Kubectl;
  const running: Running[] = [];

  async function ok(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const r = await kubectl(...args);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  }

  function start(...args: string[]): Running {
    const proc = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const r: Running = {
      proc,
      out: () => out,
      err: () => err,
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        await exited;
      },
    };
    running.push(r);
    return r;
  }

  /** Waits until `watch`'s output (or errors) match `pattern`; a failure shows what it printed. */
  async function until(watch: Running, pattern: RegExp, what: string, timeoutMs = 60_000, stream: 'out' | 'err' = 'out'): Promise<void> {
    await eventually(async () => pattern.test(stream === 'out' ? watch.out() : watch.err()), timeoutMs, what).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nstdout:\n${watch.out()}\nstderr:\n${watch.err().slice(-2000)}`);
    });
  }

  async function apply(yaml: string): Promise<void> {
    const file = join(home, `apply-${Date.now()}.yaml`);
    await writeFile(file, yaml);
    const applied = await cluster.grove(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'grove-kubectl-watch-'));
    cluster = await TestCluster.create({ extraArgs: ['--tls'] });
    await cluster.startServer();
    kubeconfig = await writeKubeconfig(home, cluster.serverDir);
    kubectl = kubectlWith(home, kubeconfig);
    fleet = new HollowFleet({ serverUrl: cluster.apiUrl, token: await cluster.token(), count: 2, namePrefix: `watch-${process.pid}`, logger: silentLogger(), heartbeatSeconds: 2 });
    const joins = await fleet.joinAndStart();
    expect(joins.filter((j) => j.error)).toEqual([]);
    await cluster.waitForNodesReady(fleet.nodes.map((n) => n.name), 60_000);
  }, 120_000);

  afterAll(async () => {
    for (const r of running) await r.stop();
    await fleet?.stop();
    await cluster?.destroy();
    if (home) await rm(home, { recursive: true, force: true });
  }, 60_000);

  it('kubectl get pods -w sees a new pod become Running', async () => {
    // -v=6 logs each request once its answer starts: the watch is open when its GET shows.
    const watch = start('get', 'pods', '-w', '-l', 'app=watched', '-v=6');
    await until(watch, /GET \S+\/pods\?\S*watch=true\S* 200 OK/, 'the watch open', 20_000, 'err');
    await apply(deployment('watched', 1));
    await until(watch, /^watched-\S+\s+1\/1\s+Running\s/m, 'a Running line');
    const lines = watch.out().trim().split('\n').filter((l) => l.startsWith('watched-'));
    // The same pod was printed before it ran (just created, Pending, creating its container), then Running.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^watched-\S+\s+0\/1\s/);
    expect(lines[0]).not.toContain('Running');
    expect(new Set(lines.map((l) => l.split(/\s+/)[0])).size).toBe(1);
    await watch.stop();
  }, 90_000);

  it('kubectl get deploy -w --output-watch-events prints ADDED, then MODIFIED as the Deployment changes', async () => {
    const watch = start('get', 'deploy', 'watched', '-w', '--output-watch-events');
    await until(watch, /^ADDED\s+watched\s/m, 'ADDED', 20_000);
    await apply(deployment('watched', 2));
    await until(watch, /^MODIFIED\s+watched\s+2\/2\s/m, 'MODIFIED 2/2');
    expect(watch.out().split('\n')[0]).toMatch(/^EVENT\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    await watch.stop();
  }, 90_000);

  it('kubectl rollout status watches a Deployment until its new pods run', async () => {
    await apply(deployment('watched', 2, 2));
    const r = await kubectl('rollout', 'status', 'deploy/watched', '--timeout=60s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('deployment "watched" successfully rolled out');
  }, 90_000);

  it('kubectl get pods --chunk-size=2 pages through many pods with continue tokens', async () => {
    await apply(deployment('many', 7));
    await eventually(async () => (await cluster.pods('many')).filter((p) => p.phase === 'Running').length === 7, 60_000, 'seven pods running');
    const r = await ok('get', 'pods', '-l', 'app=many', '--chunk-size=2', '-v=6');
    const requests = r.stderr.split('\n').filter((l) => /GET https:\/\/\S+\/api\/v1\/namespaces\/default\/pods\?/.test(l));
    expect(requests).toHaveLength(4);
    expect(requests.slice(1).every((l) => /[?&]continue=/.test(l))).toBe(true);
    const names = r.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
    expect(names).toHaveLength(7);
    expect(new Set(names).size).toBe(7);
    expect(names.every((n) => n!.startsWith('many-'))).toBe(true);
  }, 90_000);

  it('kubectl get pods --field-selector spec.nodeName=… lists that node\'s pods only', async () => {
    const wide = (await ok('get', 'pods', '-o', 'wide', '--no-headers')).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const node = fleet!.nodes[0]!.name;
    const expected = wide.filter((cells) => cells[6] === node).map((cells) => cells[0]).sort();
    expect(expected.length).toBeGreaterThan(0);
    const selected = (await ok('get', 'pods', '--field-selector', `spec.nodeName=${node}`, '--no-headers')).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]).sort();
    expect(selected).toEqual(expected);
    const running = (await ok('get', 'pods', '--field-selector', 'status.phase=Running,metadata.namespace=default', '--no-headers')).stdout.trim().split('\n');
    expect(running.length).toBe(wide.filter((cells) => cells[2] === 'Running').length);
    const bad = await kubectl('get', 'pods', '--field-selector', 'spec.color=red');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field label not supported: spec.color');
  }, 60_000);

  it('the server\'s RSS with 100 idle watches, against none (printed)', async () => {
    const client = JSON.parse(await readFile(join(cluster.serverDir, 'client.json'), 'utf8')) as { token: string; caCert: string };
    const agent = new https.Agent({ ca: client.caCert, maxSockets: 200, keepAlive: false });
    const pid = cluster.server!.pid!;
    await new Promise((r) => setTimeout(r, 3000));
    const none = await rss(pid);
    const requests: { destroy: () => void }[] = [];
    let started = 0;
    for (let i = 0; i < 100; i++) {
      const req = https.get(`${cluster.apiUrl}/api/v1/pods?watch=1&allowWatchBookmarks=true`, { agent, headers: { authorization: `Bearer ${client.token}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        started++;
        res.on('data', () => undefined);
      });
      req.on('error', () => undefined);
      requests.push(req);
    }
    await eventually(async () => started === 100, 30_000, '100 watches open');
    await new Promise((r) => setTimeout(r, 3000));
    const hundred = await rss(pid);
    console.log(`server RSS: ${(none / MIB).toFixed(1)} MiB with no watch, ${(hundred / MIB).toFixed(1)} MiB with 100 idle watches of every pod (+${((hundred - none) / MIB).toFixed(1)} MiB, ${((hundred - none) / 100 / 1024).toFixed(0)} KiB each)`);
    for (const req of requests) req.destroy();
    agent.destroy();
    // Generous: a watch holds a socket, its TLS state and a few closures, not a copy of the pods.
    expect(hundred - none).toBeLessThan(40 * MIB);
  }, 90_000);

  it('a watch from a resourceVersion the server no longer keeps (before its restart) is a 410 ERROR event', async () => {
    const before = JSON.parse((await ok('get', '--raw', '/api/v1/namespaces/default/pods')).stdout).metadata.resourceVersion as string;
    // Something changes after that version and before the restart: the history starts after it.
    await apply(deployment('between', 1));
    await cluster.killServer('SIGTERM');
    await cluster.startServer();
    await apply(deployment('after', 1));
    const r = await ok('get', '--raw', `/api/v1/pods?watch=1&resourceVersion=${before}`);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { kind: string; code: number; reason: string; message: string } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(events[0]!.object.message).toMatch(new RegExp(`^too old resource version: ${before} \\(\\d+\\)$`));
    const one = await ok('get', '--raw', '/api/v1/pods?watch=1&resourceVersion=1');
    expect(one.stdout).toContain('"code":410');
  }, 90_000);
});
