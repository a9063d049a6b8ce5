/**
 * Named ports where probes and lifecycle hooks reference them (issue 16 item 2): accepted when the
 * container has a port of that name, refused at apply when it has not, and dialled by number on
 * the node. schedulerName: Kubernetes' default name is accepted (every kubectl dump carries it).
 */
import { describe, expect, it } from 'vitest';
import { checkObject } from '../../src/core/objects/validate.js';
import { pathText } from '../../src/core/objects/explain.js';
import { probesOf } from '../../agent/src/agent/plan/pod-fields.js';
import { postStartOf, preStopLabels } from '../../agent/src/agent/lifecycle-hooks.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const container = (extra: Record<string, unknown> = {}): any => ({
  name: 'web',
  image: 'nginx:1.27',
  ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9100 }],
  livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
  readinessProbe: { tcpSocket: { port: 'metrics' } },
  lifecycle: { preStop: { httpGet: { path: '/drain', port: 'http' } }, postStart: { httpGet: { path: '/warm', port: 8080 } } },
  ...extra,
});
const pod = (c: any, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [c], ...spec } });
function problems(value: unknown): string[] {
  const r = checkObject('Pod', value, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
}

describe('named ports in probes and hooks', () => {
  it('are accepted when the container has them', () => {
    expect(problems(pod(container()))).toEqual([]);
  });
  it('are refused when the container has no port of that name, each where it is written', () => {
    expect(problems(pod(container({ ports: [{ containerPort: 8080 }] })))).toEqual([
      'spec.containers[0].livenessProbe.httpGet.port: no port named "http" among this container\'s ports',
      'spec.containers[0].readinessProbe.tcpSocket.port: no port named "metrics" among this container\'s ports',
      'spec.containers[0].lifecycle.preStop.httpGet.port: no port named "http" among this container\'s ports',
    ]);
    expect(problems(pod(container({ livenessProbe: { httpGet: { port: 'Not_A_Name' } } }))).join('\n')).toMatch(/livenessProbe\.httpGet\.port: "Not_A_Name" must be a port number 1-65535 or the name of one of the container's ports/);
  });
  it('are dialled by number on the node', () => {
    const c = container();
    const probes = probesOf(c) as any;
    expect(probes.liveness.httpGet.port).toBe(8080);
    expect(probes.readiness.tcpSocket.port).toBe(9100);
    expect(JSON.parse(preStopLabels(c)['grove.pre-stop']!).httpGet.port).toBe(8080);
    expect((postStartOf(c) as any).httpGet.port).toBe(8080);
  });
});

describe('schedulerName', () => {
  it("accepts Kubernetes' default and refuses another scheduler with the reason", () => {
    expect(problems(pod(container(), { schedulerName: 'default-scheduler' }))).toEqual([]);
    expect(problems(pod(container(), { schedulerName: 'volcano' }))).toEqual(['spec.schedulerName: "volcano" is not default-scheduler: Grove has one scheduler (leave schedulerName out)']);
  });
});
