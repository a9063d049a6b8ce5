import { describe, expect, it } from 'vitest';
import type { ContainerProbes } from '../../src/core/resolved-pod.js';
import { decodeNodeTarget, encodeMessage } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus, PodTarget } from '../../src/core/wire-types.js';
import { onePod, targetWith, wireRejection } from './wire-fixtures.js';

const timing = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 };
const probes: ContainerProbes = {
  liveness: { exec: { command: ['test', '-f', '/tmp/healthy'] }, ...timing },
  readiness: { httpGet: { path: '/ready', port: 8080, host: '127.0.0.1', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, ...timing, successThreshold: 2 },
  startup: { tcpSocket: { port: 5432 }, ...timing, failureThreshold: 30 },
};

const podWith = (p: unknown): PodTarget => onePod({ probes: p as ContainerProbes });

const targetOf = (p: unknown) => targetWith([podWith(p)]);
const rejection = (p: unknown): string => wireRejection(targetOf(p));

describe('ContainerTarget.probes on the wire (schema 1, still decoded: src/core/wire.ts)', () => {
  it('round-trips every handler and timing', () => {
    const t = targetOf(probes);
    expect(decodeNodeTarget(encodeMessage(t))).toEqual(t);
  });

  it('drops unknown fields of a probe', () => {
    const decoded = decodeNodeTarget(encodeMessage(targetOf({ liveness: { ...probes.liveness, grpc: { port: 1 }, extra: true } })));
    expect(decoded.pods[0]!.containers[0]!.probes).toEqual({ liveness: probes.liveness });
  });

  it.each<[string, unknown, string]>([
    ['no handler', { liveness: { ...timing } }, 'probes.liveness: expected exactly one of exec, httpGet, tcpSocket'],
    ['two handlers', { readiness: { ...timing, exec: { command: ['true'] }, tcpSocket: { port: 1 } } }, 'expected exactly one of'],
    ['an empty command', { liveness: { ...timing, exec: { command: [] } } }, 'probes.liveness.exec.command: at least 1 item required'],
    ['a port out of range', { startup: { ...timing, tcpSocket: { port: 70000 } } }, 'probes.startup.tcpSocket.port: must be 1..65535'],
    ['a named port', { startup: { ...timing, tcpSocket: { port: 'http' } } }, 'tcpSocket.port: expected an integer'],
    ['periodSeconds 0', { readiness: { ...timing, periodSeconds: 0, tcpSocket: { port: 1 } } }, 'probes.readiness.periodSeconds: must be 1..3600'],
    ['a missing timing', { readiness: { tcpSocket: { port: 1 } } }, 'probes.readiness.initialDelaySeconds: expected an integer'],
    ['liveness successThreshold 2', { liveness: { ...timing, successThreshold: 2, tcpSocket: { port: 1 } } }, 'probes.liveness.successThreshold: must be 1'],
    ['a header without a name', { readiness: { ...timing, httpGet: { path: '/', port: 1, httpHeaders: [{ name: '', value: 'x' }] } } }, 'httpHeaders[0].name: must not be empty'],
  ])('rejects %s', (_what, p, message) => {
    expect(rejection(p)).toContain(message);
  });

  it('carries ContainerStatus.ready, and leaves it absent when absent', () => {
    const status: NodeStatus = {
      schema: 1,
      node: 'n',
      seq: 1,
      observedRevision: 1,
      heartbeat: false,
      facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: '6', ociRuntime: 'runc', cgroupVersion: 2, agentVersion: '0', labels: {} },
      pods: [
        {
          name: 'web-1',
          app: 'web',
          templateHash: 'h',
          phase: 'Running',
          ready: false,
          restarts: 0,
          containers: [
            { name: 'a', state: 'running', oomKilled: false, restarts: 0, ready: false },
            { name: 'b', state: 'running', oomKilled: false, restarts: 0 },
          ],
        },
      ],
      sentAt: '2025-01-01T00:00:00Z',
    };
    const decoded = decodeNodeStatus(encodeMessage(status));
    expect(decoded).toEqual(status);
    expect('ready' in decoded.pods[0]!.containers[1]!).toBe(false);
  });
});
