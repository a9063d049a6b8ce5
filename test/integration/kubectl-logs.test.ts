/**
 * `kubectl logs` and `kubectl top` (and `grove logs`, `grove top`) against a one-node cluster
 * with real containers: the pods/log subresource streamed from the node over MQTT, --previous
 * after a restart, --since, --tail, --timestamps, -c, deploy/x and -l, -f that sees a line
 * written after it started; metrics.k8s.io from the usage in the node's status; and a `grove
 * logs -f` that still streams after 60 s (the old follow window).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually, spawnGrove } from '../support/grove-cli.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

/** A process whose stdout is collected as it comes; stopped by the test. */
interface Follower {
  proc: ChildProcess;
  out: () => string;
  stop(): Promise<void>;
}

function follow(proc: ChildProcess): Follower {
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    out: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      await exited;
    },
  };
}

/** The highest N of the "tick N" lines in `text` (-1 when none). */
const lastTick = (text: string): number => Math.max(-1, ...[...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));

describeWith(['root', 'runc', 'registry', 'shim', 'kubectl'], 'kubectl logs and top against real containers', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let kubectl: Kubectl;
  let kubeconfig: string;
  const followers: Follower[] = [];
  const tag = randomBytes(3).toString('hex');
  const ticker = `ticker-${tag}`;
  const crash = `crash-${tag}`;
  const busy = `busy-${tag}`;
  const ns = `logs-${tag}`;

  const image = (): string => `${env!.registry.host}/test/busybox:1`;
  const loop = (body: string) => JSON.stringify(['sh', '-c', `trap 'exit 0' TERM; i=0; while true; do ${body}; i=$((i+1)); sleep 1; done`]);
  const deployment = (name: string, containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
${containers}`;
  const podOf = async (app: string): Promise<string> =>
    eventually(async () => {
      const r = await kubectl('get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'jsonpath={.items[0].metadata.name}');
      return r.code === 0 && r.stdout ? r.stdout : undefined;
    }, 60_000, `a pod of ${app}`);

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-kubectl-logs-', 'node-a', { extraArgs: ['--tls'], env: { GROVE_RESTART_BACKOFF: '1s' } });
    cluster = env.cluster;
    kubeconfig = await writeKubeconfig(env.scratch, cluster.serverDir);
    kubectl = kubectlWith(env.scratch, kubeconfig);
    const manifest = join(env.scratch, 'apps.yaml');
    await writeFile(
      manifest,
      [
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`,
        deployment(ticker, `        - {name: main, image: ${image()}, command: ${loop('echo "tick $i"')}}\n        - {name: side, image: ${image()}, command: ${loop('echo "side $i"')}}\n`),
        deployment(crash, `        - {name: main, image: ${image()}, command: ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 2; exit 1"]}\n`),
        deployment(busy, `        - {name: main, image: ${image()}, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"], resources: {limits: {cpu: 200m, memory: 32Mi}}}\n`),
      ].join('\n---\n'),
    );
    const applied = await cluster.grove(['apply', '-f', manifest]);
    expect(applied.code, applied.stderr).toBe(0);
    await eventually(async () => {
      const r = await kubectl('get', 'pods', '-n', ns, '-l', `app in (${ticker},${busy})`, '-o', 'jsonpath={.items[*].status.phase}');
      return r.stdout.split(' ').filter((p) => p === 'Running').length === 2 || undefined;
    }, 180_000, 'ticker and busy pods running');
  }, 300_000);

  afterAll(async () => {
    for (const f of followers) await f.stop();
    await env?.destroy();
  });

  it('kubectl logs: a container by -c (the first by default), --tail, --timestamps, --since', async () => {
    const pod = await podOf(ticker);
    const all = await eventually(async () => {
      const r = await kubectl('logs', '-n', ns, pod, '-c', 'main');
      return r.code === 0 && lastTick(r.stdout) >= 4 ? r.stdout : undefined;
    }, 60_000, 'five ticks');
    expect(all.split('\n').slice(0, 3)).toEqual(['tick 0', 'tick 1', 'tick 2']);
    const defaulted = await kubectl('logs', '-n', ns, pod);
    expect(defaulted.code, defaulted.stderr).toBe(0);
    expect(defaulted.stderr).toContain('Defaulted container "main" out of: main, side');
    expect(defaulted.stdout).toMatch(/^tick 0$/m);
    const side = await kubectl('logs', '-n', ns, pod, '-c', 'side', '--tail=2');
    expect(side.stdout.trim().split('\n')).toHaveLength(2);
    expect(side.stdout).toMatch(/^side \d+\nside \d+\n$/);
    const stamped = await kubectl('logs', '-n', ns, pod, '-c', 'main', '--tail=1', '--timestamps');
    expect(stamped.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z tick \d+\n$/);
    // --since=2s: only the last couple of ticks, never the first ones.
    const recent = await kubectl('logs', '-n', ns, pod, '-c', 'main', '--since=2s');
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).not.toMatch(/^tick 0$/m);
    expect(recent.stdout.trim().split('\n').length).toBeLessThanOrEqual(4);
    const limited = await kubectl('logs', '-n', ns, pod, '-c', 'main', '--limit-bytes=9');
    expect(limited.stdout).toBe('tick 0\nti');
  }, 120_000);

  it('kubectl logs deploy/NAME and -l pick the pods as kubectl does', async () => {
    const viaDeploy = await kubectl('logs', '-n', ns, `deploy/${ticker}`, '-c', 'side');
    expect(viaDeploy.code, viaDeploy.stderr).toBe(0);
    expect(viaDeploy.stdout).toMatch(/^side 0$/m);
    // With a selector kubectl asks for the last 10 lines (once there are more than 10).
    const viaLabel = await eventually(async () => {
      const r = await kubectl('logs', '-n', ns, '-l', `app=${ticker}`, '-c', 'main');
      expect(r.code, r.stderr).toBe(0);
      return lastTick(r.stdout) >= 12 ? r.stdout : undefined;
    }, 30_000, 'tick 12 through -l');
    expect(viaLabel.trim().split('\n')).toHaveLength(10);
    expect(viaLabel).not.toMatch(/^tick 0$/m);
    const missing = await kubectl('logs', '-n', ns, `no-such-pod-${tag}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`pods "no-such-pod-${tag}" not found`);
  }, 60_000);

  it('kubectl logs -f sees a line written after it started, until stopped', async () => {
    const pod = await podOf(ticker);
    const before = lastTick((await kubectl('logs', '-n', ns, pod, '-c', 'main')).stdout);
    const f = follow(spawn('kubectl', ['--kubeconfig', kubeconfig, 'logs', '-f', '-n', ns, pod, '-c', 'main', '--tail=1'], { env: { ...process.env, HOME: env!.scratch }, stdio: ['ignore', 'pipe', 'pipe'] }));
    followers.push(f);
    await eventually(async () => lastTick(f.out()) >= before + 3 || undefined, 30_000, `kubectl logs -f shows tick ${before + 3}`);
    expect(f.proc.exitCode).toBeNull();
    await f.stop();
  }, 60_000);

  it('kubectl logs --previous shows the instance before the last restart', async () => {
    const pod = await podOf(crash);
    await eventually(async () => {
      const r = await kubectl('get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}');
      return Number(r.stdout) >= 1 || undefined;
    }, 120_000, `${crash} restarted`);
    const previous = await eventually(async () => {
      const r = await kubectl('logs', '-n', ns, pod, '--previous');
      return r.code === 0 && /^run-/.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 'a previous log');
    const current = await eventually(async () => {
      const r = await kubectl('logs', '-n', ns, pod);
      return r.code === 0 && /^run-/.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 'a current log');
    expect(previous.trim()).toMatch(/^run-[0-9a-f-]{36}$/);
    expect(previous).not.toBe(current);
    const fresh = await kubectl('logs', '-n', ns, await podOf(ticker), '-c', 'main', '--previous');
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain('previous terminated container "main" in pod');
  }, 240_000);

  it('kubectl top nodes|pods, and grove top, show the usage the node reports', async () => {
    const nodes = await eventually(async () => {
      const r = await kubectl('top', 'nodes');
      return r.code === 0 ? r.stdout : undefined;
    }, 60_000, 'kubectl top nodes');
    // kubectl's tabwriter pads every cell, the last one too.
    expect(nodes).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\) *\nnode-a\s+\d+m\s+\d+%\s+\d+Mi\s+\d+% *\n$/);
    const busyLine = await eventually(async () => {
      const r = await kubectl('top', 'pods', '-n', ns, '-l', `app=${busy}`);
      const m = /^\S+\s+(\d+)m\s+(\d+)Mi *$/m.exec(r.stdout);
      return m && Number(m[1]) > 0 ? r.stdout : undefined;
    }, 90_000, 'busy pod CPU above 0m');
    expect(busyLine).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\) *\n/);
    // The busy loop is capped at 200m; a rate well above it would mean a wrong window.
    expect(Number(/(\d+)m/.exec(busyLine.split('\n')[1]!)![1])).toBeLessThanOrEqual(260);
    const all = await kubectl('top', 'pods', '-A', '--containers');
    expect(all.stdout).toMatch(new RegExp(`^${ns}\\s+${ticker}-\\S+\\s+side\\s+\\d+m\\s+\\d+Mi *$`, 'm'));
    const grove = await cluster.grove(['top', 'pods', '-n', ns, '-l', `app=${busy}`]);
    expect(grove.code, grove.stderr).toBe(0);
    expect(grove.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\n\S+\s+\d+m\s+\d+Mi\n$/);
    const groveNodes = await cluster.grove(['top', 'nodes']);
    expect(groveNodes.stdout).toMatch(/^node-a\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%$/m);
  }, 180_000);

  it('grove logs -f keeps streaming past 60 s, and -p, --since, --timestamps work', async () => {
    const pod = await podOf(ticker);
    const start = lastTick((await cluster.grove(['logs', '-n', ns, pod, '-c', 'main'])).stdout);
    const f = follow(spawnGrove(['--data-dir', cluster.serverDir, 'logs', '-f', '-n', ns, pod, '-c', 'main', '--tail', '1']));
    followers.push(f);
    // The old follow ended after 60 s; a tick printed 70 s after the start must still arrive.
    await eventually(async () => lastTick(f.out()) >= start + 70 || undefined, 120_000, `grove logs -f shows tick ${start + 70}`);
    expect(f.proc.exitCode).toBeNull();
    await f.stop();
    const stamped = await cluster.grove(['logs', '-n', ns, pod, '-c', 'main', '--since', '3s', '--timestamps']);
    expect(stamped.code, stamped.stderr).toBe(0);
    expect(stamped.stdout.trim().split('\n').every((l) => /^\d{4}-\d{2}-\d{2}T\S+Z tick \d+$/.test(l))).toBe(true);
    expect(stamped.stdout).not.toMatch(/ tick 0$/m);
    const previous = await cluster.grove(['logs', '-n', ns, `deploy/${crash}`, '-p']);
    expect(previous.code, previous.stderr).toBe(0);
    expect(previous.stdout).toMatch(/^run-/);
  }, 180_000);

  it('kubectl logs -f ends when the pod is deleted', async () => {
    const pod = await podOf(ticker);
    const f = follow(spawn('kubectl', ['--kubeconfig', kubeconfig, 'logs', '-f', '-n', ns, pod, '-c', 'main', '--tail=1'], { env: { ...process.env, HOME: env!.scratch }, stdio: ['ignore', 'pipe', 'pipe'] }));
    followers.push(f);
    await eventually(async () => lastTick(f.out()) >= 0 || undefined, 30_000, 'the follow started');
    const deleted = await kubectl('delete', 'pod', '-n', ns, pod, '--wait=false');
    expect(deleted.code, deleted.stderr).toBe(0);
    const code = await new Promise<number | null>((resolve) => (f.proc.exitCode !== null ? resolve(f.proc.exitCode) : f.proc.once('exit', (c) => resolve(c))));
    expect(code).toBe(0);
  }, 60_000);

  it('a pod on a node that went offline gets a Status saying so', async () => {
    const pod = await podOf(crash);
    await cluster.killAgent('node-a');
    const refused = await eventually(async () => {
      const r = await kubectl('logs', '-n', ns, pod);
      return r.code !== 0 && r.stderr.includes('not ready') ? r.stderr : undefined;
    }, 90_000, 'logs refused for the offline node');
    expect(refused).toContain(`Error from server (ServiceUnavailable): cannot read the log of pod ${pod}: its node node-a is not ready (offline?)`);
  }, 120_000);
});

