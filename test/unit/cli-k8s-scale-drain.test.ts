/**
 * `grove scale` and `grove node cordon|uncordon|drain` against a fake of the Kubernetes paths:
 * the requests kubectl makes (merge patches with their content type, the scale subresource, a
 * PUT with the resourceVersion read, pods/eviction) and the lines it prints.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { planDrain } from '../../src/cli/verbs/client/k8s/drain-plan.js';
import { runDrain, setUnschedulable, type Pause } from '../../src/cli/verbs/client/k8s/node-drain.js';
import { checkPrecondition } from '../../src/cli/verbs/client/k8s/scale.js';
import { ErrorCode } from '../../src/core/errors.js';
import { capture, fakeKubeApi, kubeList, kubeStatus, notFound, type FakeApi, type Routes } from './cli-k8s-fake-api.js';
import { node, pod, running } from './cli-k8s-fixtures.js';
import { fakeGroveEachTest } from './cli-run-grove.js';

const setUp = fakeGroveEachTest();

const scale = (replicas: number) => ({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default', resourceVersion: '7' }, spec: { replicas }, status: { replicas } });
const SCALE = '/apis/apps/v1/namespaces/default/deployments/web/scale';

describe('grove scale', () => {
  it('merge-patches the scale subresource and says so', async () => {
    const { api, grove } = await setUp({ [`PATCH ${SCALE}`]: [200, scale(3)] });
    expect(await grove.run(['scale', 'deploy/web', '--replicas', '3'])).toEqual({ code: 0, out: 'deployment.apps/web scaled\n', err: '' });
    expect(api.seen).toMatchObject([{ method: 'PATCH', url: SCALE, body: { spec: { replicas: 3 } } }]);
  });

  it('sends the merge patch content type', async () => {
    const types: string[] = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      types.push(String(req.headers['content-type']));
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(scale(1))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { groveAgainst } = await import('./cli-run-grove.js');
    const grove = await groveAgainst(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    expect((await grove.run(['scale', 'rs', 'web-1', '--replicas', '1'])).code).toBe(0);
    await grove.close();
    await new Promise((r) => server.close(r));
    expect(types).toEqual(['application/merge-patch+json']);
  });

  it('--current-replicas reads the scale, checks it, and puts it back with its resourceVersion', async () => {
    const { api, grove } = await setUp({ [`GET ${SCALE}`]: [200, scale(2)], [`PUT ${SCALE}`]: [200, scale(5)] });
    expect((await grove.run(['scale', 'deployment', 'web', '--replicas', '5', '--current-replicas', '2'])).out).toBe('deployment.apps/web scaled\n');
    expect(api.seen[1]).toMatchObject({ method: 'PUT', body: { metadata: { resourceVersion: '7' }, spec: { replicas: 5 } } });
  });

  it('refuses when the precondition fails, and changes nothing', async () => {
    const { api, grove } = await setUp({ [`GET ${SCALE}`]: [200, scale(3)] });
    const r = await grove.run(['scale', 'deploy/web', '--replicas', '5', '--current-replicas', '2']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Expected replicas to be 2, was 3');
    expect(api.seen.map((s) => s.method)).toEqual(['GET']);
  });

  it('scales what -l selects', async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' } };
    const { grove } = await setUp({
      'GET /apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb': [200, kubeList('ReplicaSet', [rs])],
      'PATCH /apis/apps/v1/namespaces/default/replicasets/web-1/scale': [200, scale(0)],
    });
    expect((await grove.run(['scale', 'rs', '-l', 'app=web', '--replicas', '0'])).out).toBe('replicaset.apps/web-1 scaled\n');
  });

  it('needs --replicas, and a kind with a scale subresource', async () => {
    const { api, grove } = await setUp({});
    expect((await grove.run(['scale', 'deploy/web'])).err).toContain('required flag(s) "replicas" not set');
    expect((await grove.run(['scale', 'cm/web', '--replicas', '1'])).err).toContain('scale works on deployments, replicasets and statefulsets, not configmaps');
    expect(api.seen).toEqual([]);
  });

  it('prints the server\'s refusal in kubectl\'s words', async () => {
    const { grove } = await setUp({ [`PATCH ${SCALE}`]: [404, notFound('deployments.apps', 'web')] });
    const r = await grove.run(['scale', 'deploy/web', '--replicas', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Error from server (NotFound): deployments.apps "web" not found');
  });

  it('precondition: the check alone', () => {
    expect(() => checkPrecondition(scale(1), 1)).not.toThrow();
    expect(() => checkPrecondition(scale(1), undefined)).not.toThrow();
    expect(() => checkPrecondition({ metadata: { name: 'x' }, spec: {} }, 1)).toThrow('Expected replicas to be 1, was 0');
  });
});

describe('grove node cordon|uncordon', () => {
  it('merge-patches spec.unschedulable', async () => {
    const { api, grove } = await setUp({ 'GET /api/v1/nodes/pi-1': [200, node('pi-1')], 'PATCH /api/v1/nodes/pi-1': [200, node('pi-1', { unschedulable: true })] });
    expect(await grove.run(['node', 'cordon', 'pi-1'])).toEqual({ code: 0, out: 'node/pi-1 cordoned\n', err: '' });
    expect(api.seen[1]).toMatchObject({ method: 'PATCH', url: '/api/v1/nodes/pi-1', body: { spec: { unschedulable: true } } });
  });

  it('uncordon removes the field; a node already so is left alone', async () => {
    const { api, grove } = await setUp({ 'GET /api/v1/nodes/pi-1': [200, node('pi-1', { unschedulable: true })], 'PATCH /api/v1/nodes/pi-1': [200, node('pi-1')] });
    expect((await grove.run(['node', 'uncordon', 'pi-1'])).out).toBe('node/pi-1 uncordoned\n');
    expect(api.seen[1]!.body).toEqual({ spec: { unschedulable: null } });
    expect((await grove.run(['node', 'cordon', 'pi-1'])).out).toBe('node/pi-1 already cordoned\n');
    expect(api.seen.filter((s) => s.method === 'PATCH')).toHaveLength(1);
  });
});

const owner = (kind: string, name: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true }] });
const webPod = pod('web-1', { phase: 'Running', containerStatuses: [running('web')] }, { metadata: owner('ReplicaSet', 'web-x') });
const agentPod = pod('agent-1', { phase: 'Running' }, { metadata: { ...owner('DaemonSet', 'agent'), namespace: 'kube-system' } });
const barePod = pod('bare', { phase: 'Running' });
const donePod = pod('done', { phase: 'Succeeded' });
const scratchPod = pod('scratch', { phase: 'Running' }, { metadata: owner('ReplicaSet', 'scratch-x'), spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } });

describe('drain plan (kubectl\'s filters)', () => {
  const none = { ignoreDaemonSets: false, deleteEmptyDirData: false, force: false };
  it('refuses DaemonSet pods, emptyDir data and bare pods unless told', () => {
    const plan = planDrain([webPod, agentPod, barePod, scratchPod, donePod], none);
    expect(plan.refusals).toEqual([
      'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/agent-1',
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch',
      'cannot delete Pods that declare no controller (use --force to override): default/bare',
    ]);
  });

  it('with the flags: DaemonSet pods stay, the rest go, with warnings', () => {
    const plan = planDrain([webPod, agentPod, barePod, scratchPod, donePod], { ignoreDaemonSets: true, deleteEmptyDirData: true, force: true });
    expect(plan.refusals).toEqual([]);
    expect(plan.evict.map((p) => p.metadata.name)).toEqual(['web-1', 'bare', 'scratch', 'done']);
    expect(plan.warnings[0]).toBe('ignoring DaemonSet-managed Pods: kube-system/agent-1');
  });

  it('a finished pod needs no controller', () => {
    expect(planDrain([donePod], none)).toEqual({ evict: [donePod], warnings: [], refusals: [] });
  });
});

describe('grove node drain', () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  /** Time that passes only when drain waits. */
  function fakePause(): Pause & { slept: number[] } {
    let now = 0;
    const slept: number[] = [];
    return { slept, now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
  }

  const PODS_ON_NODE = 'GET /api/v1/pods?fieldSelector=spec.nodeName%3Dpi-1';

  function routes(pods: unknown[], extra: Routes = {}): Routes {
    return {
      'GET /api/v1/nodes/pi-1': [200, node('pi-1')],
      'PATCH /api/v1/nodes/pi-1': [200, node('pi-1', { unschedulable: true })],
      [PODS_ON_NODE]: [200, kubeList('Pod', pods as { kind?: string }[])],
      ...extra,
    };
  }

  it('cordons, evicts, waits until the pods are gone (or replaced), and says drained', async () => {
    let polls = 0;
    const replaced = { ...webPod, metadata: { ...webPod.metadata, uid: 'uid-new' } };
    api = await fakeKubeApi(
      routes([webPod, agentPod, pod('other', {}, { spec: { nodeName: 'pi-2' } })], {
        'POST /api/v1/namespaces/default/pods/web-1/eviction': [201, { kind: 'Status', status: 'Success' }],
        // Still there at the first look, then a pod of the same name with another uid (its ReplicaSet's).
        'GET /api/v1/namespaces/default/pods/web-1': () => [200, ++polls < 2 ? webPod : replaced],
      }),
    );
    const c = capture();
    const pause = fakePause();
    await runDrain(api.client, c.io, { node: 'pi-1', ignoreDaemonSets: true, deleteEmptyDirData: false, force: false, timeoutMs: 0 }, pause);
    expect(c.out()).toBe('node/pi-1 cordoned\nevicting pod default/web-1\npod/web-1 evicted\nnode/pi-1 drained\n');
    expect(c.err()).toBe('Warning: ignoring DaemonSet-managed Pods: kube-system/agent-1\n');
    const eviction = api.seen.find((s) => s.url.endsWith('/eviction'));
    expect(eviction?.body).toEqual({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'default' } });
    expect(api.seen.some((s) => s.url.includes('/pods/other'))).toBe(false);
    expect(pause.slept).toEqual([1000]);
  });

  it('refuses like kubectl when DaemonSet pods are there without --ignore-daemonsets, evicting nothing', async () => {
    api = await fakeKubeApi(routes([webPod, agentPod]));
    const c = capture();
    const err = await runDrain(api.client, c.io, { node: 'pi-1', ignoreDaemonSets: false, deleteEmptyDirData: false, force: false, timeoutMs: 0 }, fakePause()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((err as Error).message).toBe('unable to drain node "pi-1" (it stays cordoned):\ncannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/agent-1');
    expect(api.seen.some((s) => s.method === 'POST')).toBe(false);
  });

  it('retries an eviction refused with 429 every 5 s, and passes --grace-period', async () => {
    let tries = 0;
    api = await fakeKubeApi(
      routes([webPod], {
        'POST /api/v1/namespaces/default/pods/web-1/eviction': () => (++tries < 3 ? [429, kubeStatus(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.')] : [201, {}]),
        'GET /api/v1/namespaces/default/pods/web-1': [404, notFound('pods', 'web-1')],
      }),
    );
    const c = capture();
    const pause = fakePause();
    await runDrain(api.client, c.io, { node: 'pi-1', ignoreDaemonSets: false, deleteEmptyDirData: false, force: false, timeoutMs: 0, gracePeriodSeconds: 10 }, pause);
    expect(pause.slept).toEqual([5000, 5000]);
    expect(c.err()).toContain('error when evicting pods/"web-1" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.');
    expect(api.seen.find((s) => s.method === 'POST')?.body).toMatchObject({ deleteOptions: { gracePeriodSeconds: 10 } });
    expect(c.out()).toContain('node/pi-1 drained');
  });

  it('gives up after --timeout, naming the pods still there', async () => {
    api = await fakeKubeApi(routes([webPod], { 'POST /api/v1/namespaces/default/pods/web-1/eviction': [201, {}], 'GET /api/v1/namespaces/default/pods/web-1': [200, webPod] }));
    const c = capture();
    const err = await runDrain(api.client, c.io, { node: 'pi-1', ignoreDaemonSets: false, deleteEmptyDirData: false, force: false, timeoutMs: 5000 }, fakePause()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.Timeout, message: 'drain did not complete within 5s: still on node pi-1: default/web-1' });
    expect(c.out()).not.toContain('drained');
  });

  it('cordon alone: an unknown node is the server\'s NotFound', async () => {
    api = await fakeKubeApi({ 'GET /api/v1/nodes/ghost': [404, notFound('nodes', 'ghost')] });
    await expect(setUnschedulable(api.client, capture().io, 'ghost', true)).rejects.toThrow('Error from server (NotFound): nodes "ghost" not found');
  });
});
