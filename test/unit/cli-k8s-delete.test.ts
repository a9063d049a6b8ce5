import { afterEach, describe, expect, it } from 'vitest';
import { runDelete, type DeleteRequest } from '../../src/cli/verbs/client/k8s/delete.js';
import { parseResourceArgs } from '../../src/cli/verbs/client/k8s/resource-args.js';
import { ErrorCode } from '../../src/core/errors.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { capture, fakeKubeApi, kubeList, notFound, type FakeApi } from './cli-k8s-fake-api.js';
import { deployment, pod, stored } from './cli-k8s-fixtures.js';

const web = deployment('web', 2, {});
const pods = [pod('web-1'), pod('web-2')];
const iot = stored('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'iot' } });

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function fake(): Promise<FakeApi> {
  api = await fakeKubeApi({
    'DELETE /apis/apps/v1/namespaces/default/deployments/web': [200, web],
    'DELETE /apis/apps/v1/namespaces/shop/deployments/web': [200, web],
    'DELETE /apis/apps/v1/namespaces/default/deployments/gone': [404, notFound('deployments.apps', 'gone')],
    'DELETE /api/v1/namespaces/default/pods/web-1': [200, pods[0]],
    'DELETE /api/v1/namespaces/default/pods/web-2': [200, pods[1]],
    'DELETE /api/v1/namespaces/iot': [200, { ...iot, status: { phase: 'Terminating' } }],
    'DELETE /api/v1/namespaces/default/configmaps/settings': [200, {}],
    'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb': [200, kubeList('Pod', pods)],
    'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dnone': [200, kubeList('Pod', [])],
  });
  return api;
}

function request(args: string[], more: Partial<DeleteRequest> = {}): DeleteRequest {
  return { resources: args.length ? parseResourceArgs(args, 'delete') : [], objects: [], namespace: 'default', allNamespaces: false, all: false, ignoreNotFound: false, ...more };
}

describe('grove delete (Kubernetes paths)', () => {
  it('deletes by kind and names, and by TYPE/NAME, with kubectl\'s lines', async () => {
    const { client, seen } = await fake();
    const c = capture();
    await runDelete(client, c.io, request(['deploy', 'web']));
    await runDelete(client, c.io, request(['pod/web-1', 'ns/iot']));
    expect(c.out()).toBe('deployment.apps "web" deleted\npod "web-1" deleted\nnamespace "iot" deleted\n');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'DELETE /apis/apps/v1/namespaces/default/deployments/web',
      'DELETE /api/v1/namespaces/default/pods/web-1',
      'DELETE /api/v1/namespaces/iot',
    ]);
  });

  it('-l deletes what the selector lists; nothing selected says so', async () => {
    const { client } = await fake();
    const c = capture();
    await runDelete(client, c.io, request(['pods'], { labelSelector: 'app=web' }));
    await runDelete(client, c.io, request(['pods'], { labelSelector: 'app=none' }));
    expect([c.out(), c.err()]).toEqual(['pod "web-1" deleted\npod "web-2" deleted\n', 'No resources found\n']);
  });

  it('-f: the objects of the files, in their namespace or -n\'s', async () => {
    const { client, seen } = await fake();
    const fromFile = [
      { ...web, metadata: { name: 'web', namespace: 'shop' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: {} },
    ] as AnyObject[];
    const c = capture();
    await runDelete(client, c.io, request([], { objects: fromFile }));
    expect(seen.map((s) => s.url)).toEqual(['/apis/apps/v1/namespaces/shop/deployments/web', '/api/v1/namespaces/default/configmaps/settings']);
    expect(c.out()).toBe('deployment.apps "web" deleted\nconfigmap "settings" deleted\n');
  });

  it('-f: a file\'s Namespace last, after what it holds (a compose project\'s comes first in the file)', async () => {
    const { client, seen } = await fake();
    const fromFile = [iot, { ...web, metadata: { name: 'web', namespace: 'shop' } }] as AnyObject[];
    await runDelete(client, capture().io, request([], { objects: fromFile }));
    expect(seen.map((s) => s.url)).toEqual(['/apis/apps/v1/namespaces/shop/deployments/web', '/api/v1/namespaces/iot']);
  });

  it('goes on past a name that is not there, then fails naming it (unless --ignore-not-found)', async () => {
    const { client } = await fake();
    const c = capture();
    await expect(runDelete(client, c.io, request(['deploy', 'gone', 'web']))).rejects.toMatchObject({ code: ErrorCode.NotFound, message: 'Error from server (NotFound): deployments.apps "gone" not found' });
    expect(c.out()).toBe('deployment.apps "web" deleted\n');
    const quiet = capture();
    await runDelete(client, quiet.io, request(['deploy', 'gone'], { ignoreNotFound: true }));
    expect([quiet.out(), quiet.err()]).toEqual(['', '']);
  });

  it('refuses a kind without names or selector, and names across all namespaces', async () => {
    const { client, seen } = await fake();
    await expect(runDelete(client, capture().io, request(['pods']))).rejects.toThrow('no name was specified');
    await expect(runDelete(client, capture().io, request(['pods', 'web-1'], { allNamespaces: true }))).rejects.toThrow('across all namespaces');
    await expect(runDelete(client, capture().io, request(['pods', 'web-1'], { all: true }))).rejects.toThrow('not both');
    expect(seen).toEqual([]);
  });
});
