import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError, errorMessage } from '../../src/core/errors.js';
import type { PodAssignment } from '../../src/core/model.js';
import type { PodStatus } from '../../src/core/wire-types.js';
import { streamLogs, type LogsDeps } from '../../src/server/logs-api.js';
import type { LogLine } from '../../src/server/rpc-proxy.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { podErrorLine } from '../../src/cli/verbs/client/logs.js';
import { app, pod } from './server-fixtures.js';

const REASON = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector";

async function setup(reported?: PodStatus) {
  const store = new MemoryStore();
  const { node: _none, ...rest } = pod('web-pend1', 'web', 'x', 'h');
  const pods: PodAssignment[] = [pod('web-run01', 'web', 'pi-1', 'h'), pod('web-new01', 'web', 'pi-2', 'h'), { ...rest, unschedulable: REASON }];
  await store.commit([{ type: 'put', key: 'apps/web', value: app('web', { replicas: 3 }) }, ...pods.map((p) => ({ type: 'put' as const, key: `pods/${p.meta.name}`, value: p }))]);
  const asked: string[] = [];
  const deps: LogsDeps = {
    store,
    isReady: () => true,
    rpc: {
      requestLogs: async (node, params, onLines) => {
        asked.push(`${params.pod}@${node}`);
        if (params.pod !== 'web-run01') throw new GroveError(ErrorCode.NotFound, `node ${node}: pod ${params.pod} has no containers on this node`);
        onLines([{ pod: params.pod, container: 'main', time: 't', stream: 'stdout', text: 'hello' }]);
      },
    },
    reported: (_node, name) => (name === 'web-new01' ? reported : undefined),
  };
  return { deps, asked };
}

async function appLogs(deps: LogsDeps) {
  const lines: LogLine[] = [];
  const errors: string[] = [];
  await streamLogs(deps, { app: 'web' }, (l) => lines.push(...l), (p, err) => errors.push(`${p}: ${errorMessage(err)}`));
  return { lines: lines.map((l) => `${l.pod} ${l.text}`), errors: errors.sort() };
}

describe('logs of pods without a container', () => {
  it('names each such pod and what holds it back; never asks a node about a Pending pod', async () => {
    const waiting: PodStatus = {
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

  it('the CLI prints one line per pod, naming the pod once', () => {
    expect(podErrorLine('web-pend1', `pod web-pend1 has no container yet (Pending: ${REASON})`)).toBe(`grove: pod web-pend1 has no container yet (Pending: ${REASON})`);
    expect(podErrorLine('web-run01', 'node pi-1 is not ready (offline?)')).toBe('grove: pod web-run01: node pi-1 is not ready (offline?)');
  });
});
