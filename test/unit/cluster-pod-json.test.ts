/** The cluster tests' reading of `grove get pods -o json` (test/support/pod-json.ts). */
import { describe, expect, it } from 'vitest';
import { nodeReady, podJson, workloadOf, type PodObject } from '../support/pod-json.js';

const owned = (name: string, kind: string, owner: string, labels: Record<string, string> = {}): PodObject => ({
  metadata: { name, labels, ownerReferences: [{ kind, name: owner, controller: true }] },
  spec: {},
});

describe('pod-json', () => {
  it('finds the top-level workload by the owner names the controllers give', () => {
    expect(workloadOf(owned('web-5f6c9-x2k4b', 'ReplicaSet', 'web-5f6c9', { 'pod-template-hash': '5f6c9' }))).toBe('web');
    expect(workloadOf(owned('agent-x2k4b', 'DaemonSet', 'agent'))).toBe('agent');
    expect(workloadOf(owned('nightly-29012345-x2k4b', 'Job', 'nightly-29012345'))).toBe('nightly');
    expect(workloadOf(owned('backup-x2k4b', 'Job', 'backup'))).toBe('backup');
    expect(workloadOf({ metadata: { name: 'solo' }, spec: {} })).toBe('solo');
  });

  it('reads phase, readiness, restarts, node and container states', () => {
    const pod: PodObject = {
      ...owned('web-5f6c9-x2k4b', 'ReplicaSet', 'web-5f6c9', { 'pod-template-hash': '5f6c9' }),
      spec: { nodeName: 'pi-1' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'web', restartCount: 2, state: { running: {} } },
          { name: 'log', restartCount: 1, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
        ],
      },
    };
    expect(podJson(pod)).toEqual({
      name: 'web-5f6c9-x2k4b', app: 'web', node: 'pi-1', phase: 'Running', ready: true, restarts: 3, templateHash: '5f6c9',
      containers: [{ name: 'web', state: 'running', oomKilled: false }, { name: 'log', state: 'exited', exitCode: 137, oomKilled: true, reason: 'OOMKilled' }],
    });
    const pending: PodObject = { metadata: { name: 'p' }, spec: {}, status: { conditions: [{ type: 'PodScheduled', status: 'False', message: '0/2 nodes are available' }] } };
    expect(podJson(pending)).toMatchObject({ phase: 'Pending', ready: false, unschedulable: '0/2 nodes are available' });
    expect(nodeReady({ metadata: { name: 'pi-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toBe(true);
    expect(nodeReady({ metadata: { name: 'pi-2' } })).toBe(false);
  });
});
