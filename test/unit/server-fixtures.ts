/** Builders shared by the server tests (not a test file itself). */
import type { Node } from '../../src/core/objects/cluster.js';
import type { NodeStatus, PodStatus, Presence } from '../../src/core/wire-types.js';
import { encodeMessage } from '../../src/core/wire.js';
import { ManualClock } from '../support/manual-clock.js';

/** The server tests' clock: a ManualClock starting at 2025-05-01T00:00:00Z unless told otherwise. */
export function fixtureClock(start = Date.parse('2025-05-01T00:00:00Z')): ManualClock {
  return new ManualClock(start);
}

/** A Node object as joined (no status yet), or with a Ready condition that last flipped at `since`. */
export function nodeObject(name: string, o: { ready?: boolean; since?: string; labels?: Record<string, string> } = {}): Node {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } }, spec: {} };
  if (o.ready === undefined) return node;
  const at = o.since ?? '2025-05-01T00:00:00Z';
  return { ...node, status: { conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', reason: 'Test', lastTransitionTime: at, lastHeartbeatTime: at }] } };
}

export function nodeStatus(node: string, o: { seq?: number; runId?: string; pods?: PodStatus[]; arch?: string; labels?: Record<string, string>; observedRevision?: number; sentAt?: string; memoryAvailableBytes?: number } = {}): NodeStatus {
  return {
    schema: 1,
    node,
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    seq: o.seq ?? 1,
    observedRevision: o.observedRevision ?? 0,
    heartbeat: false,
    facts: {
      arch: o.arch ?? 'arm64',
      os: 'linux',
      cpus: 4,
      memoryBytes: 1024 ** 3,
      memoryAvailableBytes: o.memoryAvailableBytes ?? 512 * 1024 ** 2,
      diskFreeBytes: 10 * 1024 ** 3,
      kernel: '6.6.0',
      ociRuntime: 'crun',
      cgroupVersion: 2,
      agentVersion: '0.1.0',
      labels: o.labels ?? {},
    },
    pods: o.pods ?? [],
    sentAt: o.sentAt ?? '2025-05-01T00:00:00.000Z',
  };
}

export function encStatus(s: NodeStatus): Buffer {
  return encodeMessage(s);
}

export function encPresence(node: string, online: boolean): Buffer {
  const p: Presence = { schema: 1, node, online, at: '2025-05-01T00:00:00.000Z' };
  return encodeMessage(p);
}
