/**
 * A NATS cluster on loopback for tests and benches: Debian's nats-server, N members routed to
 * each other, JetStream on (NATS's MQTT needs it for sessions and retained messages), an MQTT
 * listener on every member, and two users (the Grove server's and the nodes' shared login).
 * Everything lives in one temp dir removed by stop(); members are stopped by their own pids.
 *
 * stream_replicas is set on purpose: left alone, NATS sizes the MQTT streams by the peers it
 * knows when the first MQTT client connects, which can be 2 of 3 right after start; an R2
 * stream loses its quorum with one member and every MQTT connect then fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen } from './ports.js';

export interface NatsMember {
  name: string;
  mqttUrl: string;
  mqttPort: number;
  /** NATS's monitoring endpoint (connz), to find which member a client is on. */
  monitorPort: number;
  proc: ChildProcess;
  log: string;
}

export interface NatsCluster {
  dir: string;
  members: NatsMember[];
  /** What `grove server --broker-credentials` reads. */
  credentialsFile: string;
  mqttUrls: string[];
  /** SIGKILLs one member (a crash, not a goodbye). */
  kill(index: number): Promise<void>;
  /** Index of the member an MQTT client id is connected to (undefined: none). */
  memberOf(clientId: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function waitPort(port: number, member: NatsMember, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (member.proc.exitCode !== null) throw new Error(`nats-server ${member.name} exited:\n${member.log.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`nats-server ${member.name}: MQTT port ${port} not open after ${timeoutMs} ms:\n${member.log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function killAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  return exited;
}

export async function startNatsCluster(options: { members?: number } = {}): Promise<NatsCluster> {
  const count = options.members ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'grove-nats-'));
  const suffix = randomBytes(3).toString('hex');
  const server = { username: 'grove-server', password: randomBytes(18).toString('base64url') };
  const node = { username: 'grove-node', password: randomBytes(18).toString('base64url') };
  const credentialsFile = join(dir, 'broker-credentials.json');
  await writeFile(credentialsFile, JSON.stringify({ server, node }, null, 2), { mode: 0o600 });
  const ports = [];
  for (let i = 0; i < count; i++) ports.push({ client: await freePort(), route: await freePort(), mqtt: await freePort(), monitor: await freePort() });
  const members: NatsMember[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => killAndWait(m.proc, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const name = `grove-${suffix}-n${i}`;
      const memberDir = join(dir, `n${i}`);
      await mkdir(memberDir, { recursive: true });
      const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.route}`);
      const conf = `server_name: ${name}
listen: 127.0.0.1:${ports[i]!.client}
http: 127.0.0.1:${ports[i]!.monitor}
jetstream { store_dir: "${join(memberDir, 'js')}", max_memory_store: 256MB, max_file_store: 1GB }
cluster { name: grove-${suffix}, listen: 127.0.0.1:${ports[i]!.route}, routes: [${routes.join(', ')}] }
mqtt { listen: 127.0.0.1:${ports[i]!.mqtt}, stream_replicas: ${Math.min(3, count)} }
authorization {
  users: [
    { user: "${server.username}", password: "${server.password}" },
    { user: "${node.username}", password: "${node.password}" }
  ]
}
`;
      const confPath = join(memberDir, 'nats.conf');
      await writeFile(confPath, conf, { mode: 0o600 });
      const proc = spawn('nats-server', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      const member: NatsMember = { name, mqttPort: ports[i]!.mqtt, mqttUrl: `mqtt://127.0.0.1:${ports[i]!.mqtt}`, monitorPort: ports[i]!.monitor, proc, log: '' };
      const collect = (b: Buffer): void => {
        member.log = (member.log + b.toString()).slice(-8000);
      };
      proc.stdout!.on('data', collect);
      proc.stderr!.on('data', collect);
      members.push(member);
    }
    // MQTT opens once JetStream has a meta leader, which needs a quorum of members.
    for (const m of members) await waitPort(m.mqttPort, m, 60_000);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    dir,
    members,
    credentialsFile,
    mqttUrls: members.map((m) => m.mqttUrl),
    kill: (index) => killAndWait(members[index]!.proc, 'SIGKILL'),
    async memberOf(clientId) {
      for (const [i, m] of members.entries()) {
        if (m.proc.exitCode !== null || m.proc.signalCode !== null) continue;
        const res = await fetch(`http://127.0.0.1:${m.monitorPort}/connz?mqtt_client=${encodeURIComponent(clientId)}`);
        const body = (await res.json()) as { connections?: unknown[] };
        if ((body.connections?.length ?? 0) > 0) return i;
      }
      return undefined;
    },
    stop: stopAll,
  };
}
