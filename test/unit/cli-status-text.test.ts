import { describe, expect, it } from 'vitest';
import { nodeStatusText, podStatusText, type NodeView, type PodView } from '../../src/cli/verbs/client/views.js';

const pod = (containers: PodView['containers']): PodView => ({
  name: 'web-abc123-s0001', app: 'web', node: 'pi-1', phase: 'Running', ready: false, restarts: 3, containers,
  revision: 1, templateHash: 'h', createdAt: undefined,
});

describe('STATUS columns', () => {
  it('shows CrashLoopBackOff for a pod whose container waits out its restart backoff', () => {
    expect(podStatusText(pod([{ name: 'main', state: 'exited', ready: false, exitCode: 1, oomKilled: false, reason: 'CrashLoopBackOff' }]))).toBe('CrashLoopBackOff');
    expect(podStatusText(pod([{ name: 'main', state: 'running', ready: true, oomKilled: false }]))).toBe('Running');
  });

  it('shows NotReady for a node that stopped reporting', () => {
    const node: NodeView = { name: 'pi-1', labels: {}, cordoned: false, ready: false, online: false, pods: [], joinedAt: '2025-01-01T00:00:00.000Z', notReadySince: '2025-01-01T00:01:00.000Z' };
    expect(nodeStatusText(node)).toBe('NotReady');
    expect(nodeStatusText({ ...node, ready: true, cordoned: true })).toBe('Ready,SchedulingDisabled');
  });
});
