/**
 * The broker contract against a real Mosquitto 2.0 configured only with the files
 * writeMosquittoFiles produces: proves the generated password hashes, ACL and config work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { silentLogger } from '../../src/core/logger.js';
import { ensureClusterCa, issueServerCert } from '../../src/server/security/ca.js';
import { SERVER_USERNAME, generatePassword, nodeUsername } from '../../src/server/security/credentials.js';
import { reloadMosquitto, writeMosquittoFiles, type MosquittoFilesOptions } from '../../src/server/security/mosquitto.js';
import { brokerContract, type BrokerUser } from '../contract/broker.contract.js';
import { freePort, portOpen } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';



interface RunningMosquitto {
  port: number;
  dir: string;
  pidFile: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts mosquitto on a free loopback port. As root it would drop to the `mosquitto` user,
 * which cannot read a 0700 temp dir; the test keeps it root (`user root`) instead.
 */
async function startMosquitto(options: Omit<MosquittoFilesOptions, 'listener' | 'pidFile' | 'runAsUser'>): Promise<RunningMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-'));
  const port = await freePort();
  const pidFile = join(dir, 'mosquitto.pid');
  const files = await writeMosquittoFiles(dir, {
    ...options,
    listener: { host: '127.0.0.1', port },
    pidFile,
    ...(process.getuid?.() === 0 ? { runAsUser: 'root' } : {}),
  });
  const proc = spawn('mosquitto', ['-c', files.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    pidFile,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeWith(['mosquitto'], 'mosquitto', () => {
  brokerContract('mosquitto 2.0', async (users, cluster) => {
    const m = await startMosquitto({ cluster, users });
    return { url: `mqtt://127.0.0.1:${m.port}`, stop: () => m.stop() };
  });

  const server: BrokerUser = { username: SERVER_USERNAME, password: generatePassword() };
  const node1: BrokerUser = { username: nodeUsername('pi-1'), password: generatePassword() };
  const node2: BrokerUser = { username: nodeUsername('pi-2'), password: generatePassword() };
  let m: RunningMosquitto;
  let caDir: string;
  let caPem: string;

  beforeAll(async () => {
    caDir = await mkdtemp(join(tmpdir(), 'grove-mosquitto-ca-'));
    const ca = await ensureClusterCa(caDir, { logger: silentLogger() });
    caPem = ca.caCertPem;
    const tls = await issueServerCert(ca, { hosts: ['127.0.0.1'] });
    m = await startMosquitto({ cluster: 'c1', users: [server, node1], tls });
  });
  afterAll(async () => {
    await m?.stop();
    await rm(caDir, { recursive: true, force: true });
  });

  it('serves mqtts with the Grove-issued certificate', async () => {
    const client = await connectAsync(`mqtts://127.0.0.1:${m.port}`, { ...node1, ca: caPem, reconnectPeriod: 0 });
    const granted = await client.subscribeAsync('grove/v1/c1/nodes/pi-1/target', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    await client.endAsync();
  });

  it('admits a node that joined after a rewrite and SIGHUP, keeping existing passwords', async () => {
    await expect(connectAsync(`mqtts://127.0.0.1:${m.port}`, { ...node2, ca: caPem, reconnectPeriod: 0 }, false)).rejects.toThrow();
    // The server no longer knows pi-1's or its own plaintext... only the new node's.
    const files = await writeMosquittoFiles(m.dir, {
      cluster: 'c1',
      users: [{ username: server.username }, { username: node1.username }, node2],
      listener: { host: '127.0.0.1', port: m.port },
      pidFile: m.pidFile,
    });
    expect(files.missingPasswords).toEqual([]);
    expect(await reloadMosquitto(m.pidFile)).toBe(m.proc.pid);
    await new Promise((r) => setTimeout(r, 300));
    for (const user of [server, node1, node2]) {
      const client = await connectAsync(`mqtts://127.0.0.1:${m.port}`, { ...user, ca: caPem, reconnectPeriod: 0 }, false);
      await client.endAsync();
    }
  });
});
