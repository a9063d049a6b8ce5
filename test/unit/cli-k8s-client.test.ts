import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runGet, type GetRequest } from '../../src/cli/verbs/client/k8s/get.js';
import { collectionPath, itemPath } from '../../src/cli/verbs/client/k8s/kube-client.js';
import { parseResourceArgs } from '../../src/cli/verbs/client/k8s/resource-args.js';
import { ErrorCode } from '../../src/core/errors.js';
import { KINDS } from '../../src/core/objects/kinds.js';
import { capture, fakeKubeApi, kubeList, kubeStatus, notFound, TOKEN, type FakeApi, type Routes } from './cli-k8s-fake-api.js';
import { deployment, node, NOW, pod, running } from './cli-k8s-fixtures.js';

const web = deployment('web', 2, { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
const pods = [pod('web-5f6c8d-x2k4b', { phase: 'Running', containerStatuses: [running('web')] }), pod('web-5f6c8d-b9z2q', { phase: 'Running', containerStatuses: [running('web')] })];

/** The server's Kubernetes paths, canned: [method, path] → [HTTP status, body]. */
const ROUTES: Routes = {
  'GET /apis/apps/v1/namespaces/default/deployments': [200, kubeList('Deployment', [web])],
  'GET /apis/apps/v1/namespaces/default/deployments/web': [200, web],
  'GET /apis/apps/v1/namespaces/default/deployments/gone': [404, notFound('deployments.apps', 'gone')],
  'GET /apis/apps/v1/namespaces/shop/deployments': [200, kubeList('Deployment', [])],
  'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb': [200, kubeList('Pod', pods)],
  'GET /api/v1/namespaces/default/pods?labelSelector=app+in+%28web': [400, kubeStatus(400, 'BadRequest', 'unable to parse requirement: found \'\', expected: \')\'')],
  'GET /api/v1/namespaces/default/pods': [200, kubeList('Pod', pods)],
  'GET /api/v1/pods': [200, kubeList('Pod', pods)],
  'GET /api/v1/nodes': [200, kubeList('Node', [node('pi-1', { ready: 'True' })])],
  'GET /api/v1/namespaces/default/configmaps': [401, kubeStatus(401, 'Unauthorized', 'Unauthorized')],
  'DELETE /apis/apps/v1/namespaces/default/deployments/web': [200, web],
  'GET /apis/batch/v1/namespaces/default/jobs': [200, 'not a list'],
};

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function fake(): Promise<FakeApi> {
  api = await fakeKubeApi(ROUTES);
  return api;
}

function request(args: string[], more: Partial<GetRequest> = {}): GetRequest {
  return { resources: parseResourceArgs(args, 'get'), namespace: 'default', allNamespaces: false, ...more };
}

describe('paths of the Kubernetes routes', () => {
  it('core and grouped kinds, one namespace, all namespaces, cluster scope', () => {
    expect(collectionPath(KINDS.Pod, 'default')).toBe('/api/v1/namespaces/default/pods');
    expect(collectionPath(KINDS.Pod, undefined)).toBe('/api/v1/pods');
    expect(collectionPath(KINDS.Deployment, 'shop')).toBe('/apis/apps/v1/namespaces/shop/deployments');
    expect(collectionPath(KINDS.CronJob, undefined)).toBe('/apis/batch/v1/cronjobs');
    expect(collectionPath(KINDS.Node, 'default')).toBe('/api/v1/nodes');
    expect(itemPath(KINDS.Namespace, undefined, 'iot')).toBe('/api/v1/namespaces/iot');
    expect(itemPath(KINDS.Secret, 'default', 'a b')).toBe('/api/v1/namespaces/default/secrets/a%20b');
    expect(() => itemPath(KINDS.Pod, undefined, 'web')).toThrow('no namespace');
  });
});

describe('KubeClient', () => {
  it('lists with the admin token and fills the kind into list items', async () => {
    const { client, seen } = await fake();
    const items = await client.list(KINDS.Deployment, { namespace: 'default' });
    expect(items.map((o) => [o.apiVersion, o.kind, o.metadata.name])).toEqual([['apps/v1', 'Deployment', 'web']]);
    expect(seen[0]).toEqual({ method: 'GET', url: '/apis/apps/v1/namespaces/default/deployments', authorization: `Bearer ${TOKEN}` });
  });

  it('passes the label selector as written', async () => {
    const { client, seen } = await fake();
    expect((await client.list(KINDS.Pod, { namespace: 'default', labelSelector: 'app=web' })).length).toBe(2);
    expect(seen[0]!.url).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
  });

  it('words Status errors as kubectl does, with a stable code', async () => {
    const { client } = await fake();
    await expect(client.get(KINDS.Deployment, 'default', 'gone')).rejects.toMatchObject({ code: ErrorCode.NotFound, message: 'Error from server (NotFound): deployments.apps "gone" not found' });
    await expect(client.list(KINDS.ConfigMap, { namespace: 'default' })).rejects.toMatchObject({ code: ErrorCode.Unauthenticated, message: 'Error from server (Unauthorized): Unauthorized' });
    await expect(client.list(KINDS.Pod, { namespace: 'default', labelSelector: 'app in (web' })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument, message: "Error from server (BadRequest): unable to parse requirement: found '', expected: ')'" });
  });

  it('refuses an answer that is not a list', async () => {
    const { client } = await fake();
    await expect(client.list(KINDS.Job, { namespace: 'default' })).rejects.toThrow('without a list of items');
  });

  it('deletes by the item path', async () => {
    const { client, seen } = await fake();
    await client.delete(KINDS.Deployment, 'default', 'web');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['DELETE /apis/apps/v1/namespaces/default/deployments/web']);
  });
});

describe('grove get (Kubernetes paths)', () => {
  it('prints one kind as kubectl\'s table', async () => {
    const { client } = await fake();
    const c = capture();
    await runGet(client, c.io, request(['deploy']), NOW);
    expect(c.out()).toBe('NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/2     2            2           10m\n');
  });

  it('several kinds: a table each, names as kind/name, a blank line between', async () => {
    const { client } = await fake();
    const c = capture();
    await runGet(client, c.io, request(['deployments.apps,po']), NOW);
    expect(c.out().split('\n')).toEqual([
      'NAME                  READY   UP-TO-DATE   AVAILABLE   AGE',
      'deployment.apps/web   2/2     2            2           10m',
      '',
      'NAME                   READY   STATUS    RESTARTS   AGE',
      'pod/web-5f6c8d-x2k4b   1/1     Running   0          10m',
      'pod/web-5f6c8d-b9z2q   1/1     Running   0          10m',
      '',
    ]);
  });

  it('-A lists every namespace with a NAMESPACE column; cluster-scoped kinds ignore -n', async () => {
    const { client, seen } = await fake();
    const c = capture();
    await runGet(client, c.io, request(['pods'], { allNamespaces: true }), NOW);
    await runGet(client, c.io, request(['nodes'], { namespace: 'shop' }), NOW);
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/pods', '/api/v1/nodes']);
    expect(c.out().split('\n')[0]).toBe('NAMESPACE   NAME               READY   STATUS    RESTARTS   AGE');
    expect(c.out()).toContain('pi-1   Ready    <none>   12d   v0.2.0');
  });

  it('says so on stderr when nothing is found', async () => {
    const { client } = await fake();
    const c = capture();
    await runGet(client, c.io, request(['deploy'], { namespace: 'shop' }), NOW);
    await runGet(client, c.io, request(['deploy'], { namespace: 'shop', output: 'name' }), NOW);
    expect([c.out(), c.err()]).toEqual(['', 'No resources found in shop namespace.\n'.repeat(2)]);
  });

  it('-o name, -o yaml of one object (applies back: no kind missing), -o json of a list', async () => {
    const { client } = await fake();
    const names = capture();
    await runGet(client, names.io, request(['deploy,pods'], { output: 'name' }), NOW);
    expect(names.out()).toBe('deployment.apps/web\npod/web-5f6c8d-x2k4b\npod/web-5f6c8d-b9z2q\n');
    const yaml = capture();
    await runGet(client, yaml.io, request(['deploy', 'web'], { output: 'yaml' }), NOW);
    expect(yaml.out().startsWith('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n')).toBe(true);
    expect(parse(yaml.out()).spec.replicas).toBe(2);
    const json = capture();
    await runGet(client, json.io, request(['deploy'], { output: 'json' }), NOW);
    const parsed = JSON.parse(json.out());
    expect([parsed.kind, parsed.items.length, parsed.items[0].kind]).toEqual(['List', 1, 'Deployment']);
  });

  it('prints what it found, then every name it did not, and fails', async () => {
    const { client } = await fake();
    const c = capture();
    const failure = runGet(client, c.io, request(['deploy', 'web', 'gone']), NOW);
    await expect(failure).rejects.toMatchObject({ code: ErrorCode.NotFound, message: 'Error from server (NotFound): deployments.apps "gone" not found' });
    expect(c.out()).toContain('web    2/2');
  });

  it('refuses a name across all namespaces, as kubectl', async () => {
    const { client, seen } = await fake();
    await expect(runGet(client, capture().io, request(['pod', 'web'], { allNamespaces: true }), NOW)).rejects.toThrow('a resource cannot be retrieved by name across all namespaces');
    expect(seen).toEqual([]);
  });
});

describe('resource arguments', () => {
  it('TYPE[,TYPE] NAME…, TYPE/NAME…, all', () => {
    const kinds = (args: string[]) => parseResourceArgs(args, 'get').map((r) => [r.kind.kind, ...r.names]);
    expect(kinds(['deploy', 'web', 'api'])).toEqual([['Deployment', 'web', 'api']]);
    expect(kinds(['po,deployments.apps'])).toEqual([['Pod'], ['Deployment']]);
    expect(kinds(['deploy/web', 'pod/web-1', 'deployment/api'])).toEqual([['Deployment', 'web', 'api'], ['Pod', 'web-1']]);
    expect(kinds(['all'])).toEqual([['Pod'], ['DaemonSet'], ['Deployment'], ['ReplicaSet'], ['StatefulSet'], ['CronJob'], ['Job']]);
  });

  it('refuses unknown types, mixed forms and names for several types', () => {
    expect(() => parseResourceArgs(['widgets'], 'get')).toThrow('the server doesn\'t have a resource type "widgets"');
    expect(() => parseResourceArgs(['deployments.batch'], 'get')).toThrow('resource type "deployments.batch"');
    expect(() => parseResourceArgs(['deploy', 'deploy/web'], 'get')).toThrow('no need to specify a resource type as a separate argument');
    expect(() => parseResourceArgs(['deploy,po', 'web'], 'get')).toThrow('use TYPE/NAME');
    expect(() => parseResourceArgs([], 'delete')).toThrow('You must specify the type of resource to delete (namespaces, nodes, pods');
  });
});
