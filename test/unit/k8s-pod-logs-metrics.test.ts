/**
 * pods/{name}/log and metrics.k8s.io over HTTP (a real node:http server on the Router, an
 * ObjectStore on a MemoryStore, a scripted node RPC and usage reports): what kubectl receives.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { Router } from '../../src/server/http.js';
import { addMetricsRoutes } from '../../src/server/k8s-api/metrics-api.js';
import type { UsageReport } from '../../src/server/k8s-api/metrics-objects.js';
import { addPodLogRoutes } from '../../src/server/k8s-api/pod-logs.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { addKubernetesRoutes } from '../../src/server/k8s-api/routes.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import type { LogLine, LogParams } from '../../src/server/rpc-proxy.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';

const TOKEN = 't';
const NOW = Date.parse('2025-05-01T12:00:00Z');

let server: http.Server;
let base: string;
let store: MemoryStore;
let objects: ObjectStore;
let asked: LogParams[];
/** What the scripted node does with a log request. */
let node: (params: LogParams, onLines: (l: LogLine[]) => void, signal?: AbortSignal) => Promise<void>;
let ready: Set<string>;
let usage: Map<string, UsageReport>;

const pod = (name: string, o: { node?: string; containers?: string[]; labels?: Record<string, string>; namespace?: string } = {}): AnyObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' } },
  spec: { ...(o.node ? { nodeName: o.node } : {}), containers: (o.containers ?? ['main']).map((c) => ({ name: c, image: 'busybox' })) },
});
const nodeObject = (name: string, labels: Record<string, string> = {}): AnyObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
const line = (text: string, time = '2025-05-01T11:59:59.123456789Z'): LogLine => ({ pod: 'web-1', container: 'main', time, stream: 'stdout', text });

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  objects = new ObjectStore({ store, clock: new ManualClock(NOW), newUid: () => `uid-${Math.random()}` });
  await ensureDefaultNamespace(objects);
  asked = [];
  ready = new Set(['pi-1']);
  usage = new Map();
  node = async (_p, onLines) => onLines([line('hello'), line('world')]);
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  addPodLogRoutes(router, {
    objects,
    isReady: (n) => ready.has(n),
    rpc: {
      requestLogs: async (_node, params, onLines, signal) => {
        asked.push(params);
        return node(params, onLines, signal);
      },
    },
    reported: () => ({ name: 'web-1', app: 'web', templateHash: 'h', phase: 'Pending', ready: false, restarts: 0, containers: [{ name: 'main', state: 'waiting', reason: 'ImagePullBackOff', oomKilled: false, restarts: 0 }] }),
  });
  addMetricsRoutes(router, { objects, usage: (n) => usage.get(n), now: () => NOW });
  const feed = new ObjectFeed({ objects, clock: new ManualClock() });
  feed.start();
  addKubernetesRoutes(router, objects, (o) => o, { feed, clock: new ManualClock() });
  server = http.createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

const put = (...os: AnyObject[]) => objects.commit(os.map((object) => ({ op: 'put' as const, object })));

async function get(path: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const LOG = '/api/v1/namespaces/default/pods/web-1/log';

describe('GET pods/{name}/log', () => {
  it('streams the lines as text/plain, with timestamps when asked, and passes the options to the node', async () => {
    await put(pod('web-1', { node: 'pi-1' }));
    const plain = await get(LOG);
    expect(plain).toEqual({ status: 200, type: 'text/plain', text: 'hello\nworld\n' });
    expect(asked[0]).toEqual({ pod: 'web-1', namespace: 'default', container: 'main' });
    const stamped = await get(`${LOG}?timestamps=true&tailLines=2&sinceSeconds=30&follow=true`);
    expect(stamped.text).toBe('2025-05-01T11:59:59.123456789Z hello\n2025-05-01T11:59:59.123456789Z world\n');
    expect(asked[1]).toEqual({ pod: 'web-1', namespace: 'default', container: 'main', tail: 2, sinceSeconds: 30, follow: true });
    await get(`${LOG}?previous=1&follow=true&sinceTime=2025-05-01T11:00:00%2B01:00`);
    expect(asked[2]).toEqual({ pod: 'web-1', namespace: 'default', container: 'main', previous: true, sinceTime: '2025-05-01T10:00:00.000Z' });
  });

  it('cuts the stream at limitBytes and stops the node', async () => {
    await put(pod('web-1', { node: 'pi-1' }));
    let stopped = false;
    node = async (_p, onLines, signal) => {
      onLines([line('abcdef'), line('ghi')]);
      await new Promise<void>((_resolve, reject) => {
        const end = () => {
          stopped = true;
          reject(new GroveError(ErrorCode.Internal, 'log request cancelled'));
        };
        if (signal?.aborted) end();
        else signal?.addEventListener('abort', end);
      });
    };
    expect((await get(`${LOG}?limitBytes=9&follow=true`)).text).toBe('abcdef\ngh');
    expect(stopped).toBe(true);
  });

  it('ends a follow when the pod is deleted', async () => {
    await put(pod('web-1', { node: 'pi-1' }));
    node = (_p, onLines, signal) =>
      new Promise((_resolve, reject) => {
        onLines([line('before')]);
        void objects.commit([{ op: 'delete', ref: { kind: 'Pod', namespace: 'default', name: 'web-1' } }]);
        signal?.addEventListener('abort', () => reject(new GroveError(ErrorCode.Internal, 'log request cancelled')));
      });
    expect(await get(`${LOG}?follow=true`)).toMatchObject({ status: 200, text: 'before\n' });
  });

  it('answers Status objects worded as the API server', async () => {
    const status = async (path: string) => {
      const r = await get(path);
      const body = JSON.parse(r.text) as { kind: string; reason: string; message: string; code: number };
      expect(body.kind).toBe('Status');
      expect(body.code).toBe(r.status);
      return `${r.status} ${body.reason}: ${body.message}`;
    };
    expect(await status(LOG)).toBe('404 NotFound: pods "web-1" not found');
    await put(pod('web-1', { node: 'pi-1', containers: ['main', 'side'] }), pod('web-2', { node: 'pi-9' }), pod('web-3'));
    expect(await status(LOG)).toBe('400 BadRequest: a container name must be specified for pod web-1, choose one of: [main side]');
    expect(await status(`${LOG}?container=nope`)).toBe('400 BadRequest: container nope is not valid for pod web-1');
    expect(await status(`${LOG}?container=main&sinceSeconds=5&sinceTime=2025-05-01T11:00:00Z`)).toBe('400 BadRequest: at most one of `sinceTime` or `sinceSeconds` may be specified');
    expect(await status(`${LOG}?container=main&tailLines=-1`)).toBe('400 BadRequest: tailLines: Invalid value: -1: must be greater than or equal to 0');
    expect(await status(`${LOG}?container=main&limitBytes=0`)).toBe('400 BadRequest: limitBytes: Invalid value: 0: must be greater than 0');
    expect(await status(`${LOG}?container=main&follow=maybe`)).toBe('400 BadRequest: follow: Invalid value: "maybe": expected true or false');
    expect(await status('/api/v1/namespaces/default/pods/web-2/log')).toBe('503 ServiceUnavailable: cannot read the log of pod web-2: its node pi-9 is not ready (offline?)');
    expect(await status('/api/v1/namespaces/default/pods/web-3/log')).toBe('400 BadRequest: container "main" in pod "web-3" is waiting to start: not scheduled to a node yet');
    node = async () => {
      throw new GroveError(ErrorCode.NotFound, 'node pi-1: pod web-1 has no container main on this node');
    };
    expect(await status(`${LOG}?container=main`)).toBe('400 BadRequest: container "main" in pod "web-1" is waiting to start: ImagePullBackOff');
    expect(await status(`${LOG}?container=main&previous=true`)).toBe('400 BadRequest: previous terminated container "main" in pod "web-1" not found');
    expect(asked).toHaveLength(2); // nothing reached a node for the refused requests
  });
});

describe('metrics.k8s.io/v1beta1', () => {
  const report = (pods: UsageReport['usage']['pods']): UsageReport => ({ receivedAt: NOW - 1500, usage: { windowMs: 15_012, cpu: 1_250_000_000, memory: 512 * 1024 ** 2, pods } });

  beforeEach(async () => {
    await put(nodeObject('pi-1', { role: 'edge' }), nodeObject('pi-2'), pod('web-1', { node: 'pi-1' }), pod('db-1', { node: 'pi-1', labels: { app: 'db' } }), pod('web-2', { node: 'pi-2' }));
    usage.set('pi-1', report([{ name: 'web-1', containers: [['main', 5_000_000, 3 * 1024 ** 2]] }, { name: 'db-1', containers: [['main', 1, 1000]] }]));
  });

  it('lists and gets NodeMetrics of the nodes that reported usage, by label', async () => {
    const list = JSON.parse((await get('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=role%3Dedge')).text);
    expect(list).toEqual({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'NodeMetricsList',
      metadata: {},
      items: [
        {
          apiVersion: 'metrics.k8s.io/v1beta1',
          kind: 'NodeMetrics',
          metadata: { name: 'pi-1', creationTimestamp: '2025-05-01T12:00:00Z', labels: { role: 'edge' } },
          timestamp: '2025-05-01T11:59:58Z',
          window: '15.012s',
          usage: { cpu: '1250000000n', memory: '512Mi' },
        },
      ],
    });
    expect(JSON.parse((await get('/apis/metrics.k8s.io/v1beta1/nodes/pi-1')).text).metadata.name).toBe('pi-1');
    const missing = await get('/apis/metrics.k8s.io/v1beta1/nodes/pi-2');
    expect([missing.status, JSON.parse(missing.text).message]).toEqual([404, 'nodes.metrics.k8s.io "pi-2" not found']);
  });

  it('lists and gets PodMetrics by namespace and label; pods without usage are left out', async () => {
    const list = JSON.parse((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb')).text);
    expect(list.items).toEqual([
      {
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: { name: 'web-1', namespace: 'default', creationTimestamp: '2025-05-01T12:00:00Z', labels: { app: 'web' } },
        timestamp: '2025-05-01T11:59:58Z',
        window: '15.012s',
        containers: [{ name: 'main', usage: { cpu: '5000000n', memory: '3Mi' } }],
      },
    ]);
    const all = JSON.parse((await get('/apis/metrics.k8s.io/v1beta1/pods')).text);
    expect(all.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual(['db-1', 'web-1']);
    expect(JSON.parse((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db-1')).text).containers[0].usage).toEqual({ cpu: '1n', memory: '1000' });
    expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-2')).status).toBe(404);
    expect((await get('/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.name%3Dx')).status).toBe(400);
  });
});
