import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/server/auth/authenticate.js';
import { checkClientCertRequest, issueClientCert } from '../../src/server/auth/client-certs.js';
import { addTokenForUser, createUserFromBody, issueCertificateForUser } from '../../src/server/auth/users-api.js';
import { deleteUser, listUsers, userForCertificate, userForToken, MAX_USER_TOKENS } from '../../src/server/auth/users.js';
import { ensureClusterCa, type ClusterCa } from '../../src/server/security/ca.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

const request = (authorization?: string, socket: object = {}) => ({ headers: authorization ? { authorization } : {}, socket }) as unknown as IncomingMessage;

describe('users', () => {
  it('stores a hash of the token, never the token; the token authenticates until the user is deleted', async () => {
    const store = new MemoryStore();
    const { user, token } = await createUserFromBody(store, { name: 'ann', role: 'view' }, NOW);
    expect(user).toEqual({ name: 'ann', role: 'view', createdAt: NOW.toISOString(), tokens: 1, certificates: 0 });
    expect(token).toMatch(/^groveu1\.ann\.[A-Za-z0-9_-]{43}$/);
    const stored = JSON.stringify((await store.list('grove/users/')).map((e) => e.value));
    expect(stored).not.toContain(token.split('.')[2]);
    expect((await userForToken(store, token))?.name).toBe('ann');
    expect(await userForToken(store, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(await userForToken(store, token.replace('.ann.', '.bob.'))).toBeUndefined();
    const second = await addTokenForUser(store, 'ann', NOW);
    expect((await userForToken(store, second.token))?.name).toBe('ann');
    expect((await userForToken(store, token))?.name).toBe('ann');
    await deleteUser(store, 'ann');
    expect(await userForToken(store, token)).toBeUndefined();
    expect(await userForToken(store, second.token)).toBeUndefined();
  });

  it('refuses a bad name, a bad role, unknown fields, a taken name and too many tokens, writing nothing', async () => {
    const store = new MemoryStore();
    await expect(createUserFromBody(store, { name: 'Ann!', role: 'view' }, NOW)).rejects.toThrow(/user name/);
    await expect(createUserFromBody(store, { name: 'ann', role: 'root' }, NOW)).rejects.toThrow(/role: expected admin, edit or view/);
    await expect(createUserFromBody(store, { name: 'ann', role: 'view', extra: 1 }, NOW)).rejects.toThrow(/extra: unknown field/);
    expect(await listUsers(store)).toEqual([]);
    await createUserFromBody(store, { name: 'ann', role: 'view' }, NOW);
    await expect(createUserFromBody(store, { name: 'ann', role: 'admin' }, NOW)).rejects.toMatchObject({ code: 'CONFLICT' });
    for (let i = 1; i < MAX_USER_TOKENS; i++) await addTokenForUser(store, 'ann', NOW);
    const before = store.revision();
    await expect(addTokenForUser(store, 'ann', NOW)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(addTokenForUser(store, 'bob', NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(store.revision()).toBe(before);
  });
});

describe('client certificates', () => {
  let dir: string;
  let ca: ClusterCa;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-auth-ca-'));
    ca = await ensureClusterCa(dir, { logger: createLogger({ level: 'silent' }) });
  }, 60_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('issues a clientAuth certificate with CN = user and O = groups, signed by the CA, and records its serial', async () => {
    const store = new MemoryStore();
    await createUserFromBody(store, { name: 'ann', role: 'edit' }, NOW);
    const { publicKey } = rsa();
    const issued = await issueCertificateForUser(store, ca, 'ann', { publicKey, groups: ['ops', 'team:edge'] }, NOW);
    const cert = new X509Certificate(issued.certificate);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=ann', 'O=ops', 'O=team:edge']);
    expect(cert.checkIssued(new X509Certificate(ca.caCertPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.caCertPem).publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(issued.serial).toBe(cert.serialNumber.toLowerCase());
    expect((await userForCertificate(store, 'ann', cert.serialNumber))?.role).toBe('edit');
    expect(await userForCertificate(store, 'ann', '01')).toBeUndefined();
    // Deleted and made again: the old certificate is not the new user's.
    await deleteUser(store, 'ann');
    await createUserFromBody(store, { name: 'ann', role: 'admin' }, NOW);
    expect(await userForCertificate(store, 'ann', cert.serialNumber)).toBeUndefined();
  });

  it('refuses non-RSA or small keys, bad groups and days, an unknown user, and a server without TLS', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(() => checkClientCertRequest(ec.publicKey, [], 1)).toThrow(/not an RSA public key/);
    expect(() => checkClientCertRequest('junk', [], 1)).toThrow(/publicKey/);
    const { publicKey } = rsa();
    expect(() => checkClientCertRequest(publicKey, ['bad group'], 1)).toThrow(/groups/);
    expect(() => checkClientCertRequest(publicKey, [], 366)).toThrow(/days/);
    const store = new MemoryStore();
    await expect(issueCertificateForUser(store, ca, 'nobody', { publicKey }, NOW)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await createUserFromBody(store, { name: 'ann', role: 'edit' }, NOW);
    await expect(issueCertificateForUser(store, undefined, 'ann', { publicKey }, NOW)).rejects.toThrow(/--tls/);
    expect(issueClientCert(ca, { user: 'x', groups: [], publicKeyPem: publicKey, days: 1, now: NOW }).expiresAt).toBe('2026-01-02T00:00:00.000Z');
  });
});

describe('the authenticator', () => {
  it('knows the admin token, user tokens and verified certificates whose serial is recorded', async () => {
    const store = new MemoryStore();
    const { token } = await createUserFromBody(store, { name: 'ann', role: 'view' }, NOW);
    const authenticate = createAuthenticator({ adminToken: () => 'a'.repeat(64), store });
    expect(await authenticate(request(`Bearer ${'a'.repeat(64)}`))).toMatchObject({ username: 'system:admin', role: 'admin', via: 'admin-token' });
    expect(await authenticate(request(`Bearer ${token}`))).toEqual({ username: 'ann', groups: ['system:authenticated'], role: 'view', via: 'token' });
    expect(await authenticate(request('Bearer nope'))).toBeUndefined();
    expect(await authenticate(request())).toBeUndefined();
    // A certificate the TLS layer verified: CN and serial; one it did not verify counts for nothing.
    const users = await store.get<{ certificates: unknown[] }>('grove/users/ann');
    await store.commit([{ type: 'put', key: 'grove/users/ann', value: { ...users!.value, certificates: [{ serial: 'abc123', expiresAt: '2027-01-01T00:00:00Z' }] } }]);
    const peer = (authorized: boolean, serial = 'ABC123') => ({ authorized, getPeerCertificate: () => ({ subject: { CN: 'ann', O: ['ops'] }, serialNumber: serial }) });
    expect(await authenticate(request(undefined, peer(true)))).toEqual({ username: 'ann', groups: ['ops', 'system:authenticated'], role: 'view', via: 'certificate' });
    expect(await authenticate(request(undefined, peer(false)))).toBeUndefined();
    expect(await authenticate(request(undefined, peer(true, 'DEF')))).toBeUndefined();
  });
});
