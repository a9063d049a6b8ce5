import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster, killAndWait } from '../support/cluster.js';
import { REPO_ROOT, eventually, spawnGrove } from '../support/grove-cli.js';
import { describeWith } from '../support/prereq.js';

interface Datagram {
  at: number;
  pid: number;
  message: string;
}

/** systemd's side: a datagram socket whose messages (with the sender's pid) we record. */
class NotifyReceiver {
  readonly messages: Datagram[] = [];
  private constructor(readonly path: string, private readonly proc: ChildProcess) {}

  static async start(binary: string, path: string): Promise<NotifyReceiver> {
    const proc = spawn(binary, [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const receiver = new NotifyReceiver(path, proc);
    let buffered = '';
    let listening = false;
    proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'listening') listening = true;
        else {
          const space = line.indexOf(' ');
          receiver.messages.push({ at: Date.now(), pid: Number(line.slice(0, space)), message: line.slice(space + 1) });
        }
      }
    });
    await eventually(async () => listening, 10_000, 'notify receiver listening');
    return receiver;
  }

  of(message: string): Datagram[] {
    return this.messages.filter((m) => m.message === message);
  }

  stop(): Promise<void> {
    return killAndWait(this.proc, 'SIGKILL');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * `grove agent` and `grove server` under a systemd-style watchdog: the test sets NOTIFY_SOCKET
 * and WATCHDOG_USEC like systemd's Type=notify + WatchdogSec=2s would and checks what arrives.
 */
describeWith(['root', 'runc', 'shim'], 'sd_notify watchdog (agent and server)', () => {
  let scratch: string;
  let receiverBin: string;
  let cluster: TestCluster;
  let serverSocket: NotifyReceiver;
  const started: ChildProcess[] = [];
  const receivers: NotifyReceiver[] = [];
  const agentDirs: string[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'grove-sdnotify-'));
    receiverBin = join(scratch, 'receiver');
    execFileSync('cc', ['-O2', '-o', receiverBin, join(REPO_ROOT, 'test/fixtures/sd-notify/receiver.c')]);
    serverSocket = await NotifyReceiver.start(receiverBin, join(scratch, 'server.sock'));
    receivers.push(serverSocket);
    cluster = await TestCluster.create({ env: { NOTIFY_SOCKET: serverSocket.path, WATCHDOG_USEC: '2000000' } });
    await cluster.startServer();
  }, 120_000);

  afterAll(async () => {
    for (const p of started) await killAndWait(p, 'SIGKILL');
    await cluster?.destroy();
    for (const r of receivers) await r.stop();
    for (const d of agentDirs) await rm(d, { recursive: true, force: true });
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function startAgent(name: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<{ proc: ChildProcess; socket: NotifyReceiver; log: () => string }> {
    const socket = await NotifyReceiver.start(receiverBin, join(scratch, `${name}.sock`));
    receivers.push(socket);
    const dir = await mkdtemp(join(tmpdir(), `grove-agent-${name}-`));
    agentDirs.push(dir);
    const token = await cluster.token();
    // Joined the way the installer's unit does it: settings from the environment, no flags.
    const proc = spawnGrove(['--data-dir', dir, 'agent'], {
      GROVE_SERVER_URL: cluster.apiUrl,
      GROVE_TOKEN: token,
      GROVE_NODE_NAME: name,
      GROVE_LABELS: 'installed-by=env, role=watchdog-test',
      NOTIFY_SOCKET: socket.path,
      WATCHDOG_USEC: '2000000',
      ...env,
    }, [], nodeArgs);
    started.push(proc);
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    return { proc, socket, log: () => log };
  }

  it('grove-shim sd-notify relays one datagram per line as its parent, drops oversize lines, exits on EOF', async () => {
    const socket = await NotifyReceiver.start(receiverBin, join(scratch, 'relay.sock'));
    receivers.push(socket);
    const relay = spawn(join(REPO_ROOT, 'agent/shim/build/grove-shim'), ['sd-notify'], { env: { NOTIFY_SOCKET: socket.path }, stdio: ['pipe', 'ignore', 'pipe'] });
    started.push(relay);
    relay.stdin!.write('READY=1\n' + 'X'.repeat(5000) + '\nSTATUS=relay test\nWATCHDOG=1\n');
    await eventually(async () => socket.messages.length >= 3, 10_000, 'three datagrams');
    expect(socket.messages.map((m) => m.message)).toEqual(['READY=1', 'STATUS=relay test', 'WATCHDOG=1']);
    // Credentials name the relay's parent (this process), as systemd's NotifyAccess=main needs.
    expect(socket.messages.every((m) => m.pid === process.pid)).toBe(true);
    const exited = new Promise<number | null>((resolve) => relay.once('exit', resolve));
    relay.stdin!.end();
    expect(await exited).toBe(0);

    let stderr = '';
    const bad = spawn(join(REPO_ROOT, 'agent/shim/build/grove-shim'), ['sd-notify'], { env: { NOTIFY_SOCKET: 'relative' }, stdio: ['pipe', 'ignore', 'pipe'] });
    bad.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((resolve) => bad.once('exit', resolve))).toBe(2);
    expect(stderr).toContain('NOTIFY_SOCKET must be an absolute or @abstract path');
  }, 60_000);

  it('the server sends READY=1 as its main process, then WATCHDOG=1 keepalives', async () => {
    await eventually(async () => serverSocket.of('WATCHDOG=1').length >= 2, 30_000, 'server keepalives');
    const ready = serverSocket.of('READY=1');
    expect(ready).toHaveLength(1);
    expect(ready[0]!.pid).toBe(cluster.server!.pid);
    expect(serverSocket.of('WATCHDOG=1').every((m) => m.pid === cluster.server!.pid)).toBe(true);
  }, 60_000);

  it('the agent sends READY=1, WATCHDOG=1 every WATCHDOG_USEC/2 and STOPPING=1 on SIGTERM', async () => {
    const { proc, socket, log } = await startAgent('sdn-ok', {});
    await eventually(async () => socket.of('WATCHDOG=1').length >= 6 || (proc.exitCode !== null && `exited: ${log()}`), 60_000, 'six keepalives');
    const ready = socket.of('READY=1');
    expect(ready).toHaveLength(1);
    // Sent with the agent's own pid, so systemd accepts it under NotifyAccess=main.
    expect(ready[0]!.pid).toBe(proc.pid);
    const beats = socket.of('WATCHDOG=1');
    expect(beats[0]!.at).toBeGreaterThanOrEqual(ready[0]!.at);
    const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
    // WATCHDOG_USEC=2 s → a keepalive every second; the median tolerates a loaded machine.
    expect(median(gaps)).toBeGreaterThan(500);
    expect(median(gaps)).toBeLessThan(2000);
    const node = await cluster.json<{ metadata: { name: string; labels?: Record<string, string> } }>(['get', 'node', 'sdn-ok']);
    expect(node.metadata.labels).toMatchObject({ 'installed-by': 'env', role: 'watchdog-test' });
    await killAndWait(proc, 'SIGTERM');
    await eventually(async () => socket.of('STOPPING=1').length === 1, 10_000, 'STOPPING=1');
    expect(proc.exitCode).toBe(0);
  }, 120_000);

  it('stops the keepalives when the agent\'s main loop is stuck', async () => {
    // The fixture, preloaded into node (not a switch of Grove's), hangs the event loop on SIGUSR2.
    const { proc, socket, log } = await startAgent('sdn-stuck', {}, ['--import', join(REPO_ROOT, 'test', 'fixtures', 'stall-on-signal.mjs')]);
    await eventually(async () => socket.of('WATCHDOG=1').length >= 2 || (proc.exitCode !== null && `exited: ${log()}`), 60_000, 'keepalives before the stall');
    proc.kill('SIGUSR2');
    // From the stall on no keepalive may arrive (systemd would restart us).
    await eventually(async () => {
      const last = socket.of('WATCHDOG=1').at(-1)!;
      return Date.now() - last.at > 8000;
    }, 60_000, 'keepalives to stop');
    const count = socket.of('WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(socket.of('WATCHDOG=1')).toHaveLength(count);
    expect(proc.exitCode).toBeNull(); // still running, just stuck: only the watchdog notices
    expect(socket.of('STOPPING=1')).toHaveLength(0);
  }, 120_000);
});
