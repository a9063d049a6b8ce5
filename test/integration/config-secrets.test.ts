/**
 * Secrets end to end in one process: a real control plane on a sealed store, the embedded broker
 * with real node authentication and ACLs, the HTTP API, the CLI verbs, and two real agents
 * (MemoryRuntime) that joined over the API and keep their ConfigMaps/Secrets in SyncedConfig.
 * Checks per-node delivery, updates, offline restart, and that a Secret value shows up in no
 * log line, no stored file and no output unless --show-values asks for it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/src/agent/agent.js';
import { MemoryRuntime } from '../../agent/src/agent/memory-runtime.js';
import { SyncedConfig } from '../../agent/src/agent/synced-config.js';
import { main } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/io.js';
import { createLogger } from '../../src/core/logger.js';
import { topicsFor } from '../../src/core/topics.js';
import type { NodeFacts } from '../../src/core/wire-types.js';
import { startApiServer, type ApiServer } from '../../src/server/api.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/server/broker/embedded-broker.js';
import { SealedStore } from '../../src/server/sealed-store.js';
import { createAuthenticator, storeNodeLookup } from '../../src/server/security/credentials.js';
import { ControlPlane } from '../../src/server/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { waitFor, workload } from './server-harness.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';

const CLUSTER = 'sec';
const ADMIN = 'a'.repeat(40);
const VALUE = `grove-secret-${randomBytes(9).toString('hex')}`;
const OTHER = `grove-other-${randomBytes(9).toString('hex')}`;
const NEW_VALUE = `grove-rotated-${randomBytes(9).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, data: Record<string, string>, type?: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...(type ? { type } : {}), stringData: data });
const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

const FACTS = (): NodeFacts => ({
  arch: process.arch, os: 'linux', cpus: 2, memoryBytes: 2 ** 31, memoryAvailableBytes: 2 ** 30, diskFreeBytes: 2 ** 33,
  kernel: 'test', ociRuntime: 'memory', cgroupVersion: 2, agentVersion: 'test', labels: {},
});

/** Everything every logger wrote, server and agents alike, at debug level. */
let logText = '';
const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logText += chunk.toString(); cb(); } });
const logger = createLogger({ level: 'debug', destination: sink });

interface Node {
  name: string;
  agent: Agent;
  config: SyncedConfig;
  file: string;
  key: Buffer;
  mqtt: { username: string; password: string };
}

describe('Secrets: sealed at rest, per-node delivery, never shown', () => {
  let dir: string;
  let raw: MemoryStore;
  let store: SealedStore;
  let broker: EmbeddedBroker;
  let cp: ControlPlane;
  let api: ApiServer;
  const nodes: Node[] = [];
  let clientConfig: string;

  const call = async <T = unknown>(method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const res = await fetch(api.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const cli = async (...args: string[]) => {
    let out = '';
    let err = '';
    const stream = (f: (s: string) => void) => new Writable({ write(c: Buffer, _e, cb) { f(c.toString()); cb(); } });
    const io: CliIO = { stdout: stream((s) => (out += s)), stderr: stream((s) => (err += s)) };
    const code = await main(args, io, fixedEnvironment({ GROVE_CONFIG: clientConfig }));
    expect({ args, code, err }).toEqual({ args, code: 0, err: '' });
    return { code, out, err };
  };

  const startAgent = async (name: string, key: Buffer, mqtt: { username: string; password: string }): Promise<Node> => {
    const file = join(dir, name, 'config.bundle');
    const config = new SyncedConfig({ file, cluster: CLUSTER, node: name, key, logger });
    const agent = new Agent({
      nodeName: name, cluster: CLUSTER, store: new MemoryStore(), runtime: new MemoryRuntime(),
      mqtt: { url: broker.url, ...mqtt }, logger, facts: async () => FACTS(),
      config, heartbeatSeconds: 1, reconnectSeconds: 0.2, pollSeconds: 1,
    });
    await agent.start();
    return { name, agent, config, file, key, mqtt };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-secrets-it-'));
    for (const n of ['node-a', 'node-b']) await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, n), { recursive: true }));
    raw = new MemoryStore();
    await raw.open();
    store = new SealedStore(raw, randomBytes(32));
    const server = { username: 'grove-server' as const, password: 's'.repeat(43) };
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, cluster: CLUSTER, authenticate: createAuthenticator(server, storeNodeLookup(store)), logger });
    cp = new ControlPlane({ store, cluster: CLUSTER, mqtt: { url: broker.url, password: server.password }, logger, adminToken: ADMIN, brokerUrlForNodes: broker.url, debounceMs: 5, nodeGraceMs: 3000 });
    await cp.start();
    api = await startApiServer({ host: '127.0.0.1', port: 0, controlPlane: cp, logger });
    clientConfig = join(dir, 'client.json');
    await writeFile(clientConfig, JSON.stringify({ apiUrl: api.url, token: ADMIN }));
    for (const name of ['node-a', 'node-b']) {
      const token = await call<{ token: string }>('POST', '/v1/tokens', {});
      const joined = await call<{ configKey: string; mqtt: { username: string; password: string } }>('POST', '/v1/join', { token: token.body.token, nodeName: name, labels: { role: name === 'node-a' ? 'a' : 'b' } }, null);
      expect(joined.status).toBe(200);
      nodes.push(await startAgent(name, Buffer.from(joined.body.configKey, 'base64'), joined.body.mqtt));
    }
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.agent.stop().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a node gets only the objects its pods reference, and updates', async () => {
    const web = workload('web', { nodeSelector: { role: 'a' } });
    const webSpec = web.spec.template.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
    webSpec.volumes = [{ name: 'creds', secret: { secretName: 'db' } }];
    webSpec.containers[0]!.envFrom = [{ configMapRef: { name: 'settings' } }];
    const apiWorkload = workload('api', { nodeSelector: { role: 'b' } });
    const apiSpec = apiWorkload.spec.template.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
    apiSpec.initContainers = [{ ...apiSpec.containers[0]!, name: 'init', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'other', key: 'token' } } }] }];
    const applied = await call('POST', '/v1/apply', {
      objects: [secret('db', { password: VALUE }), secret('other', { token: OTHER }), secret('unused', { x: 'y' }), configMap('settings', { level: 'debug' }), web, apiWorkload],
    });
    expect(applied.status, applied.text).toBe(200);

    const [a, b] = nodes as [Node, Node];
    await waitFor(() => a.config.get('Secret', 'db')?.data.password === VALUE && b.config.get('Secret', 'other'), 'bundles on both nodes', 30_000);
    expect(a.config.get('ConfigMap', 'settings')?.data).toEqual({ level: 'debug' });
    expect(a.config.get('Secret', 'other')).toBeUndefined();
    expect(a.config.get('Secret', 'unused')).toBeUndefined();
    expect(b.config.get('Secret', 'other')?.data).toEqual({ token: OTHER });
    expect(b.config.get('Secret', 'db')).toBeUndefined();
    expect(b.config.get('ConfigMap', 'settings')).toBeUndefined();

    const changes: string[] = [];
    a.config.onChange((c) => changes.push(...c.map((x) => `${x.kind}/${x.name}`)));
    const revision = a.config.revision;
    // Changing an object node-a does not use sends it nothing.
    await call('POST', '/v1/apply', { objects: [secret('other', { token: OTHER + '2' })] });
    await waitFor(() => b.config.get('Secret', 'other')?.data.token === OTHER + '2', 'update on node-b', 30_000);
    await cp.settle();
    expect(a.config.revision).toBe(revision);
    await call('POST', '/v1/apply', { objects: [secret('db', { password: NEW_VALUE })] });
    await waitFor(() => a.config.get('Secret', 'db')?.data.password === NEW_VALUE, 'update on node-a', 30_000);
    expect(changes).toEqual(['Secret/db']);
  }, 90_000);

  it("a node may not subscribe to another node's bundle; what the broker retains is ciphertext", async () => {
    const b = nodes[1]!;
    const client = await mqtt.connectAsync(broker.url, { ...b.mqtt, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      // Refused by the ACL (SUBACK 0x80).
      await expect(client.subscribeAsync(topicsFor(CLUSTER, 'node-a').config, { qos: 1 })).rejects.toThrow(/Subscribe error/);
      const retained = new Promise<Buffer>((resolve) => client.on('message', (_t, payload) => resolve(payload)));
      await client.subscribeAsync(topicsFor(CLUSTER, 'node-b').config, { qos: 1 });
      const own = await retained;
      expect(own.length).toBeGreaterThan(0);
      expect(own.includes(Buffer.from(OTHER))).toBe(false);
    } finally {
      await client.endAsync(true);
    }
  }, 30_000);

  it('stores no plaintext: server store, backup, node files; the node serves its bundle after an offline restart', async () => {
    const everything = JSON.stringify((await raw.snapshot()).entries);
    for (const v of [VALUE, NEW_VALUE, b64(NEW_VALUE)]) expect(everything).not.toContain(v);
    const backup = await cp.backup();
    expect(backup.includes(Buffer.from(NEW_VALUE))).toBe(false);
    const a = nodes[0]!;
    const file = await readFile(a.file);
    expect(file.includes(Buffer.from(NEW_VALUE))).toBe(false);
    expect(file.includes(Buffer.from(b64(NEW_VALUE)))).toBe(false);
    expect((await stat(a.file)).mode & 0o777).toBe(0o600);

    // The broker (and server) go away; the agent restarts and still has its Secret.
    await a.agent.stop();
    await broker.close();
    const restarted = await startAgent('node-a', a.key, a.mqtt);
    nodes[0] = restarted;
    expect(restarted.agent.connected).toBe(false);
    expect(restarted.config.get('Secret', 'db')?.data.password).toBe(NEW_VALUE);
  }, 60_000);

  it('no value in any log line, API answer or CLI output without --show-values; present with it', async () => {
    const certFile = join(dir, 'tls.crt');
    await writeFile(certFile, `CERT ${VALUE}`);
    const created = await cli('create', 'secret', 'generic', 'made', `--from-literal=password=${VALUE}`, `--from-file=${certFile}`, '--type', 'kubernetes.io/basic-auth');
    expect(created.out).toBe('secret/made created\n');
    // --show-values prints the Secret as stored, its data in base64 as kubectl prints it.
    const made = JSON.parse((await cli('get', 'secret', 'made', '-o', 'json', '--show-values')).out) as { type: string; data: Record<string, string> };
    expect(made).toMatchObject({ type: 'kubernetes.io/basic-auth', data: { password: b64(VALUE), 'tls.crt': b64(`CERT ${VALUE}`) } });
    // Without it, each key's size in bytes.
    expect(JSON.parse((await cli('get', 'secret', 'made', '-o', 'json')).out)).toMatchObject({ data: { password: Buffer.byteLength(VALUE), 'tls.crt': Buffer.byteLength(`CERT ${VALUE}`) } });
    expect((await cli('create', 'configmap', 'made-cm', '--from-literal=a=b')).out).toBe('configmap/made-cm created\n');
    const hidden = [
      created.out,
      (await cli('get', 'secrets')).out,
      (await cli('get', 'secret', 'db', '-o', 'yaml')).out,
      (await cli('get', 'secret', 'db', '-o', 'json')).out,
      (await cli('describe', 'secret', 'db')).out,
    ].join('\n');
    expect(hidden).toContain('db');
    expect(hidden).toContain('password');
    const described = (await cli('describe', 'secret', 'db')).out;
    expect(described).toMatch(new RegExp(`^password:\\s+${Buffer.byteLength(NEW_VALUE)} bytes$`, 'm'));
    expect(described).toMatch(/Type:\s+Opaque/);
    // A bad apply quoting the value in a wrong place: the error must not echo it.
    const bad = await call('POST', '/v1/apply', { objects: [secret('db', { 'bad/key': NEW_VALUE })] });
    expect(bad.status).toBe(422);
    const badType = await call('POST', '/v1/apply', { objects: [secret('db', { 'tls.crt': NEW_VALUE }, 'kubernetes.io/tls')] });
    expect(badType.status).toBe(422);
    const everything = [hidden, bad.text, badType.text, logText].join('\n');
    // The logs did see the traffic: bundles published and applied, joins, applies.
    expect(logText).toContain('config bundle published');
    expect(logText).toContain('config bundle applied');
    for (const v of [VALUE, NEW_VALUE, OTHER, b64(VALUE), b64(NEW_VALUE), b64(OTHER)]) expect(everything).not.toContain(v);
    // Nor in any file the nodes keep.
    for (const n of ['node-a', 'node-b']) {
      for (const f of await readdir(join(dir, n))) expect((await readFile(join(dir, n, f))).includes(Buffer.from(NEW_VALUE))).toBe(false);
    }

    // The Kubernetes path serves the Secret as Kubernetes does (admin token only): data in base64.
    expect((await call<{ data: Record<string, string> }>('GET', '/api/v1/namespaces/default/secrets/db')).body.data.password).toBe(b64(NEW_VALUE));
    expect((await cli('get', 'secret', 'db', '-o', 'yaml', '--show-values')).out).toContain(b64(NEW_VALUE));
  }, 60_000);
});
