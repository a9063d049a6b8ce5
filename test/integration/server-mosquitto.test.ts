/**
 * The control plane against an external Mosquitto 2.0 instead of the embedded broker: the
 * registerNode hook rewrites Mosquitto's password file at join and reloads it, and a node that
 * joined through the API connects with the credentials it was given, receives its target and
 * reports Ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import { encodeMessage } from '../../src/core/wire.js';
import { decodeNodeTarget2, type WireNodeTarget } from '../../src/core/wire-target.js';
import { startApiServer, type ApiServer } from '../../src/server/api.js';
import { SERVER_USERNAME, generatePassword } from '../../src/server/security/credentials.js';
import { reloadMosquitto, writeMosquittoFiles, type MosquittoUser } from '../../src/server/security/mosquitto.js';
import { ControlPlane } from '../../src/server/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { freePort, portOpen } from '../support/ports.js';
import { describeWith } from '../support/prereq.js';
import { ADMIN, isReadyNode, waitFor, workload, type NodeObject } from './server-harness.js';

const logger = silentLogger();




describeWith(['mosquitto'], 'control plane with an external Mosquitto', () => {
  let dir: string;
  let port: number;
  let proc: ChildProcess;
  let cp: ControlPlane;
  let api: ApiServer;
  const serverPassword = generatePassword();
  const users: MosquittoUser[] = [{ username: SERVER_USERNAME, password: serverPassword }];

  const writeFiles = () =>
    writeMosquittoFiles(dir, {
      cluster: 'test',
      users,
      listener: { host: '127.0.0.1', port },
      pidFile: join(dir, 'mosquitto.pid'),
      ...(process.getuid?.() === 0 ? { runAsUser: 'root' } : {}),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-server-mosquitto-'));
    port = await freePort();
    const files = await writeFiles();
    proc = spawn('mosquitto', ['-c', files.configPath], { stdio: 'ignore' });
    await waitFor(() => portOpen(port), 'mosquitto to listen', 10_000);
    const store = new MemoryStore();
    cp = new ControlPlane({
      store,
      cluster: 'test',
      mqtt: { url: `mqtt://127.0.0.1:${port}`, password: serverPassword },
      logger,
      adminToken: ADMIN,
      brokerUrlForNodes: `mqtt://127.0.0.1:${port}`,
      debounceMs: 5,
      registerNode: async (node) => {
        // Only the new password is known; the others keep their lines in the password file.
        for (const u of users) delete u.password;
        users.push({ username: node.username, password: node.password });
        await writeFiles();
        await reloadMosquitto(join(dir, 'mosquitto.pid'));
        await new Promise((r) => setTimeout(r, 300));
      },
    });
    await cp.start();
    api = await startApiServer({ host: '127.0.0.1', port: 0, controlPlane: cp, logger });
  }, 30_000);

  afterAll(async () => {
    await api?.close();
    await cp?.stop();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  const call = async <T>(method: string, path: string, body?: unknown, auth = true): Promise<T> => {
    const res = await fetch(api.url + path, {
      method,
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${ADMIN}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as T;
  };

  it('a joined node connects with its credentials, gets its target and becomes Ready', async () => {
    const { token } = await call<{ token: string }>('POST', '/v1/tokens', {});
    const joined = await call<{ mqtt: { url: string; username: string; password: string } }>('POST', '/v1/join', { token, nodeName: 'pi-1' }, false);
    const client = await mqtt.connectAsync(joined.mqtt.url, { username: joined.mqtt.username, password: joined.mqtt.password, reconnectPeriod: 0 });
    const targets: WireNodeTarget[] = [];
    const topics = topicsFor('test', 'pi-1');
    client.on('message', (topic, payload) => {
      if (topic === topics.target) targets.push(decodeNodeTarget2(payload));
    });
    await client.subscribeAsync(topics.target, { qos: 1 });
    await call('POST', '/v1/apply', { objects: [workload('web', { replicas: 2 })] });
    const target = await waitFor(() => targets.find((t) => t.pods.length === 2), 'target with two pods');
    expect(target.node).toBe('pi-1');

    await client.publishAsync(topics.presence, encodeMessage({ schema: 1, node: 'pi-1', online: true, at: new Date().toISOString() }), { qos: 1, retain: true });
    await client.publishAsync(
      topics.status,
      encodeMessage({
        schema: 1, node: 'pi-1', seq: 1, observedRevision: target.revision, heartbeat: false, pods: [], sentAt: new Date().toISOString(),
        facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: '6', ociRuntime: 'crun', cgroupVersion: 2, agentVersion: '0', labels: {} },
      }),
      { qos: 1 },
    );
    await waitFor(async () => isReadyNode(await call<NodeObject>('GET', '/api/v1/nodes/pi-1')), 'node Ready');
    await client.endAsync();
  });
});
