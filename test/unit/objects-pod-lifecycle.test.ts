import { describe, expect, it } from 'vitest';
import { pathText } from '../../src/core/objects/explain.js';
import { checkObject } from '../../src/core/objects/validate.js';

const container = (extra: Record<string, unknown> = {}) => ({ name: 'web', image: 'nginx:1.27', ...extra });

function problems(spec: unknown): string[] {
  const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
}

describe('container lifecycle fields', () => {
  it('accepts postStart, grpc and HTTPS probes, and termination message settings', () => {
    expect(
      problems({
        containers: [
          container({
            lifecycle: { postStart: { exec: { command: ['touch', '/ready'] } }, preStop: { sleep: { seconds: 1 } } },
            livenessProbe: { grpc: { port: 9090, service: 'db' } },
            readinessProbe: { httpGet: { port: 8443, scheme: 'HTTPS' } },
            startupProbe: { grpc: { port: 9090 } },
            terminationMessagePath: '/tmp/why',
            terminationMessagePolicy: 'FallbackToLogsOnError',
          }),
        ],
      }),
    ).toEqual([]);
  });

  it('refuses what Kubernetes refuses, by field', () => {
    expect(problems({ containers: [container({ terminationMessagePolicy: 'Always', terminationMessagePath: 'tmp/x' })] })).toEqual([
      'spec.containers[0].terminationMessagePath: "tmp/x" must be an absolute path',
      'spec.containers[0].terminationMessagePolicy: "Always" must be File or FallbackToLogsOnError',
    ]);
    expect(problems({ containers: [container({ readinessProbe: { httpGet: { port: 80, scheme: 'FTP' } } })] })).toEqual(['spec.containers[0].readinessProbe.httpGet.scheme: "FTP" must be HTTP or HTTPS']);
    expect(problems({ containers: [container({ readinessProbe: { grpc: { port: 9090 }, tcpSocket: { port: 9090 } } })] }).join()).toMatch(/exactly one of exec, httpGet, tcpSocket, grpc/);
    expect(problems({ containers: [container({ lifecycle: { stopSignal: 'SIGINT' } })] })).toEqual(['spec.containers[0].lifecycle.stopSignal: not supported yet']);
  });

  it('accepts native sidecars (init containers with restartPolicy Always), with probes and hooks', () => {
    const sidecar = { name: 'log', image: 'busybox', restartPolicy: 'Always', startupProbe: { exec: { command: ['true'] } }, lifecycle: { postStart: { exec: { command: ['true'] } } } };
    expect(problems({ initContainers: [sidecar], containers: [container()] })).toEqual([]);
  });

  it('refuses probes on plain init containers and restartPolicy on main containers or with another value', () => {
    expect(problems({ initContainers: [{ name: 'i', image: 'busybox', readinessProbe: { exec: { command: ['true'] } } }], containers: [container()] })).toEqual([
      'spec.initContainers[0].readinessProbe: init containers cannot have probes (they run to completion) unless restartPolicy is Always (a sidecar)',
    ]);
    expect(problems({ containers: [container({ restartPolicy: 'Always' })] })).toEqual([
      "spec.containers[0].restartPolicy: can only be set on init containers (Always: a native sidecar); main containers follow the pod's restartPolicy",
    ]);
    expect(problems({ initContainers: [{ name: 'i', image: 'busybox', restartPolicy: 'OnFailure' }], containers: [container()] })).toEqual([
      'spec.initContainers[0].restartPolicy: "OnFailure" must be Always (a native sidecar): no other container restartPolicy is supported',
    ]);
  });
});
