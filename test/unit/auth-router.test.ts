import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserInfo } from '../../src/server/auth/authorize.js';
import { createLogger } from '../../src/core/logger.js';
import { Router } from '../../src/server/http.js';
import { statusErrorFormat } from '../../src/server/k8s-api/status.js';
import { kubeconfigObject } from '../../src/cli/verbs/client/kubeconfig.js';

const USERS: Record<string, UserInfo> = {
  'view-token': { username: 'ann', groups: ['system:authenticated'], role: 'view', via: 'token' },
  'edit-token': { username: 'bob', groups: ['system:authenticated'], role: 'edit', via: 'token' },
};

describe('the router authenticates and authorizes before a handler runs', () => {
  let server: Server;
  let base: string;
  const ran: string[] = [];
  beforeAll(async () => {
    const router = new Router({
      logger: createLogger({ level: 'silent' }),
      adminToken: 'unused',
      authenticate: async (req: IncomingMessage) => USERS[(req.headers.authorization ?? '').replace(/^Bearer /, '')],
    });
    router.formatErrorsUnder('/api/', statusErrorFormat);
    router.add('GET', '/healthz', async () => ({ ok: true }), 'public');
    router.add('GET', '/api/v1/namespaces/:ns/pods', async (ctx) => (ran.push(`list by ${ctx.user?.username}`), { items: [] }), 'admin', statusErrorFormat);
    router.add('POST', '/api/v1/namespaces/:ns/pods', async () => (ran.push('create'), {}), 'admin', statusErrorFormat);
    router.add('GET', '/v1/tokens', async () => (ran.push('tokens'), []));
    server = createServer(router.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (method: string, path: string, token?: string) => {
    const res = await fetch(base + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(method === 'POST' ? { body: '{}' } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers 401 without or with unknown credentials, on known and unknown API paths, running nothing', async () => {
    for (const [method, path] of [['GET', '/api/v1/namespaces/a/pods'], ['POST', '/api/v1/namespaces/a/pods'], ['GET', '/api/v1/nosuch'], ['GET', '/v1/tokens'], ['GET', '/apis']]) {
      expect((await call(method!, path!)).status, path).toBe(401);
      expect((await call(method!, path!, 'wrong')).status, path).toBe(401);
    }
    const status = await call('GET', '/api/v1/nosuch');
    expect(status.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await call('GET', '/v1/tokens')).body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(ran).toEqual([]);
  });

  it('answers 403 to a role that does not allow the request, before its handler', async () => {
    const refused = await call('POST', '/api/v1/namespaces/a/pods', 'view-token');
    expect(refused).toEqual({
      status: 403,
      body: expect.objectContaining({ kind: 'Status', reason: 'Forbidden', message: 'pods is forbidden: User "ann" cannot create resource "pods" in API group "" in the namespace "a"' }),
    });
    expect((await call('GET', '/v1/tokens', 'edit-token')).status).toBe(403);
    expect(ran).toEqual([]);
    expect((await call('GET', '/api/v1/namespaces/a/pods', 'view-token')).status).toBe(200);
    expect((await call('POST', '/api/v1/namespaces/a/pods', 'edit-token')).status).toBe(200);
    expect(ran).toEqual(['list by ann', 'create']);
  });

  it('lets public routes and unknown paths outside the APIs through without credentials', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
    expect((await call('GET', '/nosuch')).status).toBe(404);
  });
});

describe('grove kubeconfig', () => {
  it('holds the server, the CA, one user and its context', () => {
    const token = kubeconfigObject('https://10.0.0.1:7080', 'PEM', 'ann', { token: 'groveu1.ann.x' });
    expect(token).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'grove', cluster: { server: 'https://10.0.0.1:7080', 'certificate-authority-data': Buffer.from('PEM').toString('base64') } }],
      users: [{ name: 'ann', user: { token: 'groveu1.ann.x' } }],
      contexts: [{ name: 'ann@grove', context: { cluster: 'grove', user: 'ann', namespace: 'default' } }],
      'current-context': 'ann@grove',
      preferences: {},
    });
    const cert = kubeconfigObject('http://x', undefined, 'bob', { certificatePem: 'C', keyPem: 'K' });
    expect(cert.clusters).toEqual([{ name: 'grove', cluster: { server: 'http://x' } }]);
    expect(cert.users).toEqual([{ name: 'bob', user: { 'client-certificate-data': 'Qw==', 'client-key-data': 'Sw==' } }]);
  });
});
