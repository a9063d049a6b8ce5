/**
 * `grove get -w` against a fake of the Kubernetes watch: list, then watch from the list's
 * version; resume from the last version (bookmarks count); relist on 410 and print what changed;
 * header once, columns kept aligned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KINDS } from '../../src/core/objects/kinds.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { RowWriter, relistChanges, runWatch } from '../../src/cli/verbs/client/k8s/watch-get.js';
import { watchRequest } from '../../src/cli/verbs/client/k8s/watch-request.js';
import type { Pause } from '../../src/cli/verbs/client/k8s/node-drain.js';
import { capture, fakeKubeApi, kubeStatus, Raw, type FakeApi, type Routes } from './cli-k8s-fake-api.js';
import { NOW, pod, running } from './cli-k8s-fixtures.js';

const at = (p: AnyObject, version: string) => ({ ...p, metadata: { ...p.metadata, resourceVersion: version } });
const pending = at(pod('web-1', { phase: 'Pending' }) as AnyObject, '40');
const runningPod = at(pod('web-1', { phase: 'Running', containerStatuses: [running('web')] }) as AnyObject, '43');
const list = (version: string, items: object[]) => ({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: version }, items });
const stream = (...events: object[]) => new Raw(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
const W = '/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion=';

function fakePause(): Pause {
  let now = 0;
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function watch(routes: Routes, flags: Partial<Parameters<typeof watchRequest>[1]> = {}, words = ['pods']) {
  api = await fakeKubeApi(routes);
  const c = capture();
  const request = await watchRequest(words, { allNamespaces: false, showValues: false, watchOnly: false, outputWatchEvents: false, ...flags });
  return { c, request, api };
}

describe('grove get -w', () => {
  it('lists, watches from the list\'s version, resumes from the last (bookmark) version, relists on 410', async () => {
    const stop = new AbortController();
    let lists = 0;
    const web2 = at(pod('web-2', { phase: 'Pending' }) as AnyObject, '49');
    const { c, request } = await watch({
      'GET /api/v1/namespaces/default/pods': () => [200, ++lists === 1 ? list('42', [pending]) : list('60', [at(runningPod, '50'), web2])],
      [`GET ${W}42`]: [200, stream({ type: 'MODIFIED', object: runningPod }, { type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '45' } } })],
      [`GET ${W}45`]: [200, stream({ type: 'ERROR', object: kubeStatus(410, 'Expired', 'too old resource version: 45 (50)') })],
      [`GET ${W}60`]: () => {
        stop.abort();
        return [200, stream()];
      },
    });
    await runWatch(api!.client, c.io, request, fakePause(), stop.signal, () => NOW);
    expect(c.out().split('\n')).toEqual([
      'NAME    READY   STATUS    RESTARTS   AGE',
      'web-1   0/1     Pending   0          10m',
      'web-1   1/1     Running   0          10m',
      // After the 410: what changed meanwhile.
      'web-1   1/1     Running   0          10m',
      'web-2   0/1     Pending   0          10m',
      '',
    ]);
    expect(api!.seen.map((s) => s.url)).toEqual(['/api/v1/namespaces/default/pods', `${W}42`, `${W}45`, '/api/v1/namespaces/default/pods', `${W}60`]);
  });

  it('--watch-only --output-watch-events: no listing, an EVENT column; a name filters', async () => {
    const stop = new AbortController();
    const other = at(pod('db-1', { phase: 'Running' }) as AnyObject, '44');
    const { c, request } = await watch(
      {
        'GET /api/v1/namespaces/default/pods': [200, list('42', [pending])],
        [`GET ${W}42`]: [200, stream({ type: 'MODIFIED', object: other }, { type: 'DELETED', object: runningPod })],
        // The stream ended: resumed from the last version seen, and stopped there.
        [`GET ${W}43`]: () => {
          stop.abort();
          return [200, stream()];
        },
      },
      { watchOnly: true, outputWatchEvents: true },
      ['pod', 'web-1'],
    );
    await runWatch(api!.client, c.io, request, fakePause(), stop.signal, () => NOW);
    expect(c.out()).toBe('EVENT     NAME    READY   STATUS    RESTARTS   AGE\nDELETED   web-1   1/1     Running   0          10m\n');
  });

  it('-o jsonpath prints each change', async () => {
    const stop = new AbortController();
    const { c, request } = await watch(
      {
        'GET /api/v1/namespaces/default/pods': [200, list('42', [pending])],
        [`GET ${W}42`]: [200, stream({ type: 'MODIFIED', object: runningPod })],
        [`GET ${W}43`]: () => {
          stop.abort();
          return [200, stream()];
        },
      },
      { output: { format: 'jsonpath', argument: '{.metadata.name}={.status.phase}{"\\n"}' } },
    );
    await runWatch(api!.client, c.io, request, fakePause(), stop.signal, () => NOW);
    expect(c.out()).toBe('web-1=Pending\nweb-1=Running\n');
  });

  it('a refusal from the server ends the watch with its message', async () => {
    const { c, request } = await watch({
      'GET /api/v1/namespaces/default/pods': [200, list('42', [])],
      [`GET ${W}42`]: [403, kubeStatus(403, 'Forbidden', 'pods is forbidden: User "viewer" cannot watch resource "pods"')],
    });
    await expect(runWatch(api!.client, c.io, request, fakePause(), new AbortController().signal, () => NOW)).rejects.toThrow('Error from server (Forbidden): pods is forbidden');
  });

  it('one resource type only', async () => {
    await expect(watchRequest(['pods,deploy'], { allNamespaces: false, showValues: false, watchOnly: false, outputWatchEvents: false })).rejects.toThrow('watch is only supported on individual resources and resource collections, but 2 resources were found');
  });
});

describe('watch pieces', () => {
  it('relist: ADDED, MODIFIED (another version), DELETED (gone); the same version is no change', () => {
    const a = at(pod('a') as AnyObject, '1');
    const b = at(pod('b') as AnyObject, '2');
    const seen = new Map([
      ['default/a', { version: '1', object: a }],
      ['default/b', { version: '2', object: b }],
    ]);
    const c = at(pod('c') as AnyObject, '5');
    expect(relistChanges(seen, [at(b, '3'), c, a]).map((x) => [x.type, x.object.metadata.name])).toEqual([
      ['MODIFIED', 'b'],
      ['ADDED', 'c'],
    ]);
    expect(relistChanges(seen, []).map((x) => x.type)).toEqual(['DELETED', 'DELETED']);
  });

  it('rows keep the widest cell seen so far, the header once', () => {
    const c = capture();
    const w = new RowWriter(c.io, ['NAME', 'STATUS']);
    w.write([['a', 'Running']]);
    w.write([['a-much-longer-name', 'Terminating']]);
    w.write([['b', 'Pending']]);
    expect(c.out()).toBe('NAME   STATUS\na      Running\na-much-longer-name   Terminating\nb                    Pending\n');
    expect(KINDS.Pod.plural).toBe('pods');
  });
});
