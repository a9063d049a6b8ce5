/**
 * The Kubernetes read/delete paths of a real `grove server --tls` process, read by real kubectl
 * (`kubectl get --raw`, `kubectl delete --raw`: no discovery needed, that is issue 14) with a
 * kubeconfig holding the cluster CA and the admin token (kubectl sends a bearer token over TLS
 * only). Objects are applied through POST /v1/apply (`kubectl create --raw`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/grove-cli.js';
import { LoggedServer } from '../support/logged-server.js';
import { kubectlWith, writeKubeconfig, type Kubectl } from '../support/kubectl.js';
import { describeWith } from '../support/prereq.js';

describeWith(['kubectl'], 'Kubernetes paths with kubectl --raw', () => {
  let dir: string;
  let server: LoggedServer;
  let kubectl: Kubectl;

  const raw = async (path: string) => {
    const r = await kubectl('get', '--raw', path);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-kubectl-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start({ GROVE_TLS: 'true' });
    kubectl = kubectlWith(dir, await writeKubeconfig(dir, join(dir, 'data')), 30_000);
    const deployment = (name: string, namespace: string, labels: Record<string, string>) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } },
    });
    const body = join(dir, 'apply.json');
    await writeFile(body, JSON.stringify({
      objects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
        deployment('web', 'default', { tier: 'front' }),
        deployment('cart', 'shop', { tier: 'front' }),
        deployment('db', 'shop', { tier: 'back' }),
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'edge' } },
      ],
    }));
    const applied = await kubectl('create', '--raw', '/v1/apply', '-f', body);
    expect(applied.code, applied.stderr).toBe(0);
    const results = (JSON.parse(applied.stdout) as { results: { action: string }[] }).results;
    expect(results.map((r) => r.action)).toEqual(['created', 'created', 'created', 'created', 'created']);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl get --raw reads Lists and objects of namespaced and cluster-scoped kinds', async () => {
    const cms = await raw('/api/v1/namespaces/default/configmaps');
    expect(cms).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect(cms.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['settings']);
    // The controllers made web's ReplicaSet and its pod (one replica).
    const pods = await eventually(async () => {
      const list = await raw('/api/v1/namespaces/default/pods');
      return list.items.length > 0 && list;
    }, 20_000, "web's pod");
    expect(pods).toMatchObject({ kind: 'PodList', items: [{ metadata: { ownerReferences: [{ kind: 'ReplicaSet', controller: true }] } }] });
    expect(pods.items[0].metadata.name).toMatch(/^web-[a-z0-9]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const namespaces = await raw('/api/v1/namespaces');
    expect(namespaces.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['default', 'shop']);
    const web = await raw('/apis/apps/v1/namespaces/default/deployments/web');
    expect(web).toMatchObject({ kind: 'Deployment', metadata: { name: 'web', uid: expect.any(String), generation: 1 } });
    const front = await raw('/apis/apps/v1/deployments?labelSelector=' + encodeURIComponent('tier=front'));
    expect(front.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/web', 'shop/cart']);
  });

  it('kubectl shows our Status errors as it shows any API server’s', async () => {
    const missing = await kubectl('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Error from server (NotFound)');
    expect(missing.stderr).toContain('deployments.apps "nope" not found');
    const bad = await kubectl('get', '--raw', '/apis/apps/v1/deployments?labelSelector=' + encodeURIComponent('tier in (front'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Error from server (BadRequest)');
  });

  it('kubectl delete --raw deletes an object; deleting a Namespace empties it, then it goes', async () => {
    const del = await kubectl('delete', '--raw', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(del.code, del.stderr).toBe(0);
    const gone = await kubectl('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(gone.stderr).toContain('NotFound');
    const ns = await kubectl('delete', '--raw', '/api/v1/namespaces/shop');
    expect(ns.code, ns.stderr).toBe(0);
    // Terminating (deletionTimestamp) while the namespace controller deletes what is in it; then gone.
    await eventually(async () => (await kubectl('get', '--raw', '/api/v1/namespaces/shop')).stderr.includes('NotFound'), 20_000, 'namespace shop gone');
    expect((await raw('/apis/apps/v1/namespaces/shop/deployments')).items).toEqual([]);
    const forbidden = await kubectl('delete', '--raw', '/api/v1/namespaces/default');
    expect(forbidden.stderr).toContain('Forbidden');
  });

  it('a restart writes nothing: the default namespace exists already', async () => {
    // The entry's own revision: the store's may move at start for reasons of its own.
    const before = (await raw('/api/v1/namespaces/default')).metadata.resourceVersion;
    await server.stop();
    await server.start({ GROVE_TLS: 'true' });
    expect((await raw('/api/v1/namespaces/default')).metadata.resourceVersion).toBe(before);
    expect(await server.log()).not.toContain('created namespace default');
  }, 60_000);
});
