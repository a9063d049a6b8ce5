/**
 * `--field-selector` of grove get / delete / get -w goes to the server (fieldSelector=…), which
 * selects — the same fields and results as kubectl gets — and refuses a field it cannot select
 * by in the API server's words. Against the real Kubernetes routes on an ObjectStore.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ApiClient } from '../../src/cli/client/api-client.js';
import { KINDS } from '../../src/core/objects/kinds.js';
import { KubeClient } from '../../src/cli/verbs/client/k8s/kube-client.js';
import { runGet } from '../../src/cli/verbs/client/k8s/get.js';
import { deleteTargets } from '../../src/cli/verbs/client/k8s/delete.js';
import { watchRequest } from '../../src/cli/verbs/client/k8s/watch-request.js';
import { Router } from '../../src/server/http.js';
import { addKubernetesRoutes } from '../../src/server/k8s-api/routes.js';
import { ObjectFeed } from '../../src/server/k8s-api/object-watch-source.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { capture } from './cli-k8s-fake-api.js';
import type { AnyObject } from '../../src/core/objects/changes.js';

const TOKEN = 'admin-token';
let server: http.Server;
let store: MemoryStore;
let feed: ObjectFeed;
let client: KubeClient;
const urls: string[] = [];

const pod = (name: string, nodeName: string | undefined, phase: string) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) }, _phase: phase }) as const;

beforeEach(async () => {
  store = new MemoryStore();
  await store.open();
  const clock = new ManualClock();
  const objects = new ObjectStore({ store, clock });
  await ensureDefaultNamespace(objects);
  for (const { _phase, ...p } of [pod('a', 'pi-1', 'Running'), pod('b', undefined, 'Pending'), pod('c', 'pi-2', 'Running')]) {
    await objects.commit([{ op: 'put', object: p as unknown as AnyObject }]);
    await objects.commit([{ op: 'status', ref: { kind: 'Pod', namespace: 'default', name: p.metadata.name }, status: { phase: _phase } }]);
  }
  const router = new Router({ logger: silentLogger(), adminToken: TOKEN });
  feed = new ObjectFeed({ objects, clock });
  feed.start();
  addKubernetesRoutes(router, objects, (o) => o, { feed, clock });
  server = http.createServer((req, res) => {
    urls.push(req.url!);
    router.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new KubeClient(new ApiClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: TOKEN }));
  urls.length = 0;
});

afterEach(async () => {
  feed.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

async function names(fieldSelector: string): Promise<string> {
  const c = capture();
  await runGet(client, c.io, { resources: [{ kind: KINDS.Pod, names: [] }], namespace: 'default', allNamespaces: false, fieldSelector, output: 'name' }, new Date());
  return c.out();
}

describe('grove get --field-selector (server-side)', () => {
  it('sends the selector and prints what the server selected: =, ==, != joined by commas; absent is ""', async () => {
    expect(await names('spec.nodeName=pi-1')).toBe('pod/a\n');
    expect(urls).toEqual(['/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dpi-1']);
    expect(await names('spec.nodeName==pi-2')).toBe('pod/c\n');
    expect(await names('spec.nodeName=')).toBe('pod/b\n');
    expect(await names('status.phase!=Running')).toBe('pod/b\n');
    expect(await names('status.phase=Running,metadata.name!=a')).toBe('pod/c\n');
  });

  it('a field the kind cannot be selected by is the server\'s refusal', async () => {
    await expect(names('spec.color=red')).rejects.toThrow('field label not supported: spec.color');
  });

  it('delete and get -w send it too', async () => {
    const targets = await deleteTargets(client, { objects: [], resources: [{ kind: KINDS.Pod, names: [] }], namespace: 'default', allNamespaces: false, fieldSelector: 'spec.nodeName=pi-2', all: false, ignoreNotFound: false });
    expect(targets.map((t) => t.name)).toEqual(['c']);
    expect(urls.at(-1)).toBe('/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dpi-2');
    const watch = await watchRequest(['pods'], { namespace: 'default', allNamespaces: false, fieldSelector: 'spec.nodeName=pi-1', selector: 'app=web', showValues: false, watchOnly: false, outputWatchEvents: false });
    expect(watch.scope).toEqual({ namespace: 'default', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=pi-1' });
  });
});
