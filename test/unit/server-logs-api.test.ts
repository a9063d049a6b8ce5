import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError, errorMessage } from '../../src/core/errors.js';
import type { WirePodStatus } from '../../src/core/objects/wire.js';
import { parseWorkload, streamLogs, type LogsDeps } from '../../src/server/logs-api.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import type { LogLine } from '../../src/server/rpc-proxy.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { podErrorLine } from '../../src/cli/verbs/client/logs.js';
import { fixtureClock } from './server-fixtures.js';

const REASON = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector";

const owner = (kind: string, name: string, uid: string) => [{ apiVersion: 'apps/v1', kind, name, uid, controller: true, blockOwnerDeletion: true }];
const podObject = (name: string, node: string | undefined, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: owner('ReplicaSet', 'web-h', 'rs-1') },
  spec: { containers: [{ name: 'main', image: 'nginx:1' }], ...(node !== undefined ? { nodeName: node } : {}) },
  ...extra,
});

async function setup(reported?: WirePodStatus) {
  const store = new MemoryStore();
  const pending = podObject('web-pend1', undefined, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: REASON }] } });
  const other = { ...podObject('db-1', 'pi-1'), metadata: { name: 'db-1', namespace: 'default', uid: 'uid-db' } };
  await store.commit([
    { type: 'put', key: 'deployments/default/web', value: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd-1' }, spec: {} } },
    { type: 'put', key: 'replicasets/default/web-h', value: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-h', namespace: 'default', uid: 'rs-1', ownerReferences: owner('Deployment', 'web', 'd-1') }, spec: {} } },
    ...[podObject('web-run01', 'pi-1'), podObject('web-new01', 'pi-2'), pending, other].map((p) => ({ type: 'put' as const, key: `pods/default/${p.metadata.name}`, value: p })),
  ]);
  const asked: string[] = [];
  const deps: LogsDeps = {
    objects: new ObjectStore({ store, clock: fixtureClock() }),
    isReady: () => true,
    rpc: {
      requestLogs: async (node, params, onLines) => {
        asked.push(`${params.pod}@${node}`);
        if (params.pod !== 'web-run01') throw new GroveError(ErrorCode.NotFound, `node ${node}: pod ${params.pod} has no containers on this node`);
        onLines([{ pod: params.pod, container: 'main', time: 't', stream: 'stdout', text: 'hello' }]);
      },
    },
    reported: (_node, _namespace, name) => (name === 'web-new01' ? reported : undefined),
  };
  return { deps, asked };
}

async function appLogs(deps: LogsDeps) {
  const lines: LogLine[] = [];
  const errors: string[] = [];
  await streamLogs(deps, { workload: 'deploy/web' }, (l) => lines.push(...l), (p, err) => errors.push(`${p}: ${errorMessage(err)}`));
  return { lines: lines.map((l) => `${l.pod} ${l.text}`), errors: errors.sort() };
}

describe('logs of pods without a container', () => {
  it('names each such pod and what holds it back; never asks a node about a Pending pod', async () => {
    const waiting: WirePodStatus = {
      name: 'web-new01', app: 'web', templateHash: 'h', phase: 'Pending', ready: false, restarts: 0,
      containers: [{ name: 'main', state: 'waiting', reason: 'ImagePullBackOff', oomKilled: false, restarts: 0 }],
    };
    const { deps, asked } = await setup(waiting);
    expect(await appLogs(deps)).toEqual({
      lines: ['web-run01 hello'],
      errors: [
        'web-new01: pod web-new01 has no container yet on node pi-2 (Pending: ImagePullBackOff)',
        `web-pend1: pod web-pend1 has no container yet (Pending: ${REASON})`,
      ],
    });
    expect(asked.sort()).toEqual(['web-new01@pi-2', 'web-run01@pi-1']);
  });

  it('says when the node has not reported the pod yet, and throws for a single pod', async () => {
    const { deps } = await setup();
    expect((await appLogs(deps)).errors[0]).toBe('web-new01: pod web-new01 has no container yet on node pi-2 (Pending: not reported by its node yet)');
    await expect(streamLogs(deps, { pod: 'web-pend1' }, () => undefined, () => undefined)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: `pod web-pend1 has no container yet (Pending: ${REASON})`,
    });
  });

  it('keeps the node\'s words when a container was named (it may not exist)', async () => {
    const { deps } = await setup();
    await expect(streamLogs(deps, { pod: 'web-new01', container: 'sidecar' }, () => undefined, () => undefined)).rejects.toThrow('node pi-2: pod web-new01 has no containers on this node');
  });

  it('reads workloads as kubectl names them, and refuses what has no pods of its own', () => {
    expect(parseWorkload('deploy/web')).toEqual({ kind: 'Deployment', name: 'web' });
    expect(parseWorkload('daemonsets/agent')).toEqual({ kind: 'DaemonSet', name: 'agent' });
    expect(parseWorkload('cj/nightly')).toEqual({ kind: 'CronJob', name: 'nightly' });
    expect(() => parseWorkload('configmap/x')).toThrow(/expected KIND\/NAME/);
    expect(() => parseWorkload('web')).toThrow(/expected KIND\/NAME/);
  });

  it('the CLI prints one line per pod, naming the pod once', () => {
    expect(podErrorLine('web-pend1', `pod web-pend1 has no container yet (Pending: ${REASON})`)).toBe(`grove: pod web-pend1 has no container yet (Pending: ${REASON})`);
    expect(podErrorLine('web-run01', 'node pi-1 is not ready (offline?)')).toBe('grove: pod web-run01: node pi-1 is not ready (offline?)');
  });
});
