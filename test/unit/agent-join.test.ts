import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caFingerprint, joinCluster, joinConfigPath, loadJoinConfig, parseJoinToken, rejoinCredential } from '../../agent/src/agent/join-client.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';

/** A CA and a server certificate for 127.0.0.1 signed by it. */
function makePki(cn: string): { caPem: string; certPem: string; keyPem: string } {
  const caKeys = forge.pki.rsa.generateKeyPair(2048);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = '01';
  ca.validity.notBefore = new Date(Date.now() - 60_000);
  ca.validity.notAfter = new Date(Date.now() + 86_400_000);
  const caName = [{ name: 'commonName', value: cn }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '02';
  cert.validity.notBefore = ca.validity.notBefore;
  cert.validity.notAfter = ca.validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: 'grove-server' }]);
  cert.setIssuer(caName);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }, { name: 'extKeyUsage', serverAuth: true }]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

interface FakeServer {
  url: string;
  joins: Record<string, unknown>[];
  status: number;
  /** Echo the node's proposed password as its MQTT password, as a Grove server does (default true). */
  echoPassword: boolean;
  close(): Promise<void>;
}

const JOIN_ANSWER = { cluster: 'lab', node: 'pi-1', mqtt: { url: 'mqtts://127.0.0.1:8883', username: 'node-pi-1', password: 'mqtt-secret' } };

async function fakeServer(
  tls?: { caPem: string; certPem: string; keyPem: string },
  answer: Record<string, unknown> = JOIN_ANSWER,
  servedCa = tls?.caPem,
): Promise<FakeServer> {
  const state = { joins: [] as Record<string, unknown>[], status: 200, echoPassword: true };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/ca') {
        res.writeHead(tls ? 200 : 404, { 'content-type': 'application/x-pem-file' });
        res.end(servedCa ?? '');
      } else if (req.method === 'POST' && req.url === '/v1/join') {
        const join = JSON.parse(body) as Record<string, unknown>;
        state.joins.push(join);
        const mqtt = state.echoPassword && typeof answer.mqtt === 'object' ? { mqtt: { ...(answer.mqtt as object), password: join.password } } : {};
        res.writeHead(state.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(state.status === 200 ? { ...answer, ...mqtt, ...(tls ? { caCert: tls.caPem } : {}) } : { error: { message: 'nope' } }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  };
  const server = tls ? https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get joins() {
      return state.joins;
    },
    get status() {
      return state.status;
    },
    set status(v: number) {
      state.status = v;
    },
    get echoPassword() {
      return state.echoPassword;
    },
    set echoPassword(v: boolean) {
      state.echoPassword = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('join tokens', () => {
  it('parses grove1.<fingerprint|insecure>.<id>.<secret>', () => {
    const fp = 'a'.repeat(64);
    expect(parseJoinToken(`grove1.${fp}.abc123.s3cr3t`)).toEqual({ fingerprint: fp, id: 'abc123', secret: 's3cr3t' });
    expect(parseJoinToken(' grove1.insecure.id.secret\n')).toEqual({ fingerprint: 'insecure', id: 'id', secret: 'secret' });
    for (const bad of ['', 'grove2.insecure.a.b', 'grove1.ABC.a.b', 'grove1.insecure.a', 'grove1.insecure.a.b.c', `grove1.${'a'.repeat(63)}.a.b`]) {
      expect(() => parseJoinToken(bad), bad).toThrow(/malformed join token/);
    }
  });
});

describe('joinCluster', () => {
  let pki: ReturnType<typeof makePki>;
  let other: ReturnType<typeof makePki>;
  let dataDir: string;
  const servers: FakeServer[] = [];

  beforeAll(() => {
    pki = makePki('grove-ca');
    other = makePki('impostor-ca');
  }, 60_000);

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function setup(tls?: ReturnType<typeof makePki>): Promise<FakeServer> {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-join-'));
    const s = await fakeServer(tls);
    servers.push(s);
    return s;
  }

  it('checks the CA fingerprint, joins over TLS pinned to that CA, and saves join.json with mode 0600', async () => {
    const server = await setup(pki);
    const token = `grove1.${caFingerprint(pki.caPem)}.tok1.secret1`;
    const config = await joinCluster({ serverUrl: server.url, token, nodeName: 'pi-1', labels: { zone: 'a' }, dataDir, now: () => new Date('2025-02-03T04:05:06Z') });
    // The node proposes its own new credential: 32 random bytes, base64url.
    const password = server.joins[0]?.password as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(server.joins).toEqual([{ token, nodeName: 'pi-1', labels: { zone: 'a' }, password }]);
    expect(config).toEqual({ ...JOIN_ANSWER, mqtt: { ...JOIN_ANSWER.mqtt, password }, serverUrl: server.url, caCert: pki.caPem, joinedAt: '2025-02-03T04:05:06.000Z' });
    const file = joinConfigPath(dataDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(config);
    expect(await loadJoinConfig(dataDir)).toEqual(config);
  });

  it('refuses a server whose CA does not match the token, before sending the token', async () => {
    const server = await setup(other);
    const err = await joinCluster({ serverUrl: server.url, token: `grove1.${caFingerprint(pki.caPem)}.tok1.secret1`, nodeName: 'pi-1', dataDir }).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.PermissionDenied)).toBe(true);
    expect((err as Error).message).toBe('server CA fingerprint does not match the join token: refusing to join');
    expect(server.joins).toEqual([]);
    expect(await loadJoinConfig(dataDir)).toBeUndefined();
  });

  it('does not send the token to a server that relays the right CA but holds another certificate', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-join-'));
    const mitm = await fakeServer(other, JOIN_ANSWER, pki.caPem);
    servers.push(mitm);
    const err = await joinCluster({ serverUrl: mitm.url, token: `grove1.${caFingerprint(pki.caPem)}.t.s`, nodeName: 'pi-1', dataDir }).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ServerUnavailable)).toBe(true);
    expect(mitm.joins).toEqual([]);
  });

  it('says clearly when the token is rejected', async () => {
    const server = await setup();
    for (const status of [401, 403]) {
      server.status = status;
      const err = await joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.wrong', nodeName: 'pi-1', dataDir }).catch((e: unknown) => e);
      expect(isGroveError(err, ErrorCode.PermissionDenied)).toBe(true);
      expect((err as Error).message).toBe('join token rejected by the server: nope');
    }
    // A taken name and a source over its failure limit: the server's own words, final.
    for (const [status, code] of [[409, ErrorCode.Conflict], [429, ErrorCode.RateLimited], [400, ErrorCode.InvalidArgument]] as const) {
      server.status = status;
      const err = await joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.x', nodeName: 'pi-1', dataDir, retryForMs: 60_000 }).catch((e: unknown) => e);
      expect(isGroveError(err, code), String(status)).toBe(true);
      expect((err as Error).message).toBe('join refused: nope');
    }
    expect(server.joins).toHaveLength(5); // none of them retried
    server.status = 500;
    await expect(joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.x', nodeName: 'pi-1', dataDir })).rejects.toThrow(/HTTP 500: nope/);
  });

  it('joins a plain-http server with an insecure token', async () => {
    const server = await setup();
    const config = await joinCluster({ serverUrl: `${server.url}/`, token: 'grove1.insecure.tok1.s', nodeName: 'pi-1', dataDir });
    expect(config.caCert).toBeUndefined();
    expect(config.mqtt.password).toBe(server.joins[0]?.password);
    expect(config.credential).toBeUndefined();
    expect(server.joins).toHaveLength(1);
  });

  it('sends the saved credential when joining again, and keeps its own credential beside shared broker logins', async () => {
    const server = await setup();
    const first = await joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.s', nodeName: 'pi-1', dataDir });
    expect(server.joins[0]).not.toHaveProperty('credential');
    const credential = rejoinCredential(first, 'pi-1', `${server.url}/`);
    expect(credential).toBe(first.mqtt.password);
    await joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.s', nodeName: 'pi-1', dataDir, credential: credential! });
    expect(server.joins[1]).toMatchObject({ credential: first.mqtt.password });
    expect(server.joins[1]?.password).not.toBe(first.mqtt.password);
    // Another name or another server never gets this node's credential.
    expect(rejoinCredential(first, 'pi-2', server.url)).toBeUndefined();
    expect(rejoinCredential(first, 'pi-1', 'http://elsewhere:7080')).toBeUndefined();
    expect(rejoinCredential(undefined, 'pi-1', server.url)).toBeUndefined();
    // A server that moved is recognised by the CA its token pins, the one the node trusts.
    const pinned = { ...first, caCert: pki.caPem };
    expect(rejoinCredential(pinned, 'pi-1', 'https://10.0.0.9:7080', `grove1.${caFingerprint(pki.caPem)}.tok1.s`)).toBe(first.mqtt.password);
    expect(rejoinCredential(pinned, 'pi-1', 'https://10.0.0.9:7080', `grove1.${caFingerprint(other.caPem)}.tok1.s`)).toBeUndefined();
    expect(rejoinCredential(pinned, 'pi-1', 'https://10.0.0.9:7080', 'grove1.insecure.tok1.s')).toBeUndefined();

    // NATS/EMQX: every node logs in as the same user; its own credential is kept apart.
    server.echoPassword = false;
    const shared = await joinCluster({ serverUrl: server.url, token: 'grove1.insecure.tok1.s', nodeName: 'pi-1', dataDir });
    expect(shared.mqtt.password).toBe('mqtt-secret');
    expect(shared.credential).toBe(server.joins[2]?.password);
    expect((await loadJoinConfig(dataDir))?.credential).toBe(shared.credential);
    expect(rejoinCredential(shared, 'pi-1', server.url)).toBe(shared.credential);
  });

  it('reports an unreachable server and a malformed answer as such', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-join-'));
    const err = await joinCluster({ serverUrl: 'http://127.0.0.1:1', token: 'grove1.insecure.a.b', nodeName: 'pi-1', dataDir }).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ServerUnavailable)).toBe(true);
    const bad = await fakeServer(undefined, { cluster: 'lab' });
    servers.push(bad);
    await expect(joinCluster({ serverUrl: bad.url, token: 'grove1.insecure.a.b', nodeName: 'pi-1', dataDir })).rejects.toThrow(/unexpected answer/);
    await expect(joinCluster({ serverUrl: bad.url, token: 'grove1.insecure.a.b', nodeName: 'Bad_Name', dataDir })).rejects.toThrow(/invalid node name/);
  });

  it('uses an injected transport', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-join-'));
    const seen: string[] = [];
    const config = await joinCluster({
      serverUrl: 'https://grove.lan:8443',
      token: `grove1.${caFingerprint(pki.caPem)}.t.s`,
      nodeName: 'pi-1',
      dataDir,
      fetch: async (req) => {
        seen.push(`${req.method} ${req.url} ca=${req.ca ? 'pinned' : 'none'} insecure=${req.insecureTls ?? false}`);
        return req.method === 'GET' ? { status: 200, body: pki.caPem } : { status: 200, body: JSON.stringify(JOIN_ANSWER) };
      },
    });
    expect(seen).toEqual(['GET https://grove.lan:8443/v1/ca ca=none insecure=true', 'POST https://grove.lan:8443/v1/join ca=pinned insecure=false']);
    expect(config.caCert).toBe(pki.caPem);
  });

  it('loadJoinConfig: undefined before joining, a clear error for a damaged file', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-join-'));
    expect(await loadJoinConfig(dataDir)).toBeUndefined();
    await mkdir(join(dataDir, 'agent'));
    await writeFile(joinConfigPath(dataDir), '{"cluster":');
    const err = await loadJoinConfig(dataDir).catch((e: unknown) => e);
    expect(isGroveError(err, ErrorCode.ConfigInvalid)).toBe(true);
    expect((err as Error).message).toMatch(/join\.json is damaged/);
  });
});
