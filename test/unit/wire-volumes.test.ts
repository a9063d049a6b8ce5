import { describe, expect, it } from 'vitest';
import type { Volume } from '../../src/core/resolved-pod.js';
import { decodeNodeTarget, encodeMessage } from '../../src/core/wire.js';
import { decodeRpcResponse } from '../../src/core/wire-from-agent.js';
import { decodeRpcRequest } from '../../src/core/wire-from-server.js';
import type { PodTarget } from '../../src/core/wire-types.js';
import { onePod, targetWith, wireRejection } from './wire-fixtures.js';

const volumes: Volume[] = [
  { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimitBytes: 1 << 20 } },
  { name: 'logs', hostPath: { path: '/var/log/app', type: 'DirectoryOrCreate' } },
  { name: 'data', persistentVolumeClaim: { claimName: 'db', readOnly: true } },
  { name: 'conf', configMap: { name: 'settings', items: [{ key: 'a', path: 'dir/a', mode: 0o400 }], defaultMode: 0o444, optional: true } },
  { name: 'creds', secret: { secretName: 'db' } },
];

const podWith = (extra: Partial<PodTarget>, container: Record<string, unknown> = {}): PodTarget => onePod(container, extra);

const roundTrip = (p: PodTarget) => decodeNodeTarget(encodeMessage(targetWith([p]))).pods[0]!;
const rejection = (p: PodTarget): string => wireRejection(targetWith([p]));

describe('volumes on the wire (schema 1, still decoded: src/core/wire.ts)', () => {
  it('round-trips volumes, mounts, valueFrom and envFrom', () => {
    const p = podWith(
      { volumes },
      {
        volumeMounts: [{ name: 'conf', mountPath: '/etc/app', readOnly: true, subPath: 'dir' }],
        env: [{ name: 'A', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'pw', optional: true } } }],
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'S_' }],
      },
    );
    expect(roundTrip(p)).toEqual(p);
  });

  it.each([
    ['a volume with two sources', { volumes: [{ name: 'a', emptyDir: {}, hostPath: { path: '/x' } } as unknown as Volume] }, {}, 'pods[0].volumes[0]: expected exactly one of'],
    ['a relative hostPath', { volumes: [{ name: 'a', hostPath: { path: 'x' } }] }, {}, 'pods[0].volumes[0].hostPath.path: "x" must be an absolute path'],
    ['an unknown hostPath type', { volumes: [{ name: 'a', hostPath: { path: '/x', type: 'Dir' } } as unknown as Volume] }, {}, 'volumes[0].hostPath.type: expected one of'],
    ['a mode above 0777', { volumes: [{ name: 'a', configMap: { name: 'c', defaultMode: 0o4755 } }] }, {}, 'volumes[0].configMap.defaultMode: must be 0..511'],
    ['an item escaping', { volumes: [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: 'a/../../x' }] } }] }, {}, 'items[0].path: "a/../../x" must not contain ".."'],
    ['an item named ..data', { volumes: [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: '..data' }] } }] }, {}, 'items[0].path: "..data" must not start with ".."'],
    ['a claim that is no DNS label', { volumes: [{ name: 'a', persistentVolumeClaim: { claimName: '../etc' } }] }, {}, 'claimName: "../etc" must be a DNS label'],
    ['a mount over /dev', {}, { volumeMounts: [{ name: 'a', mountPath: '/dev/' }] }, 'volumeMounts[0].mountPath: "/dev" is managed by the runtime'],
    ['a valueFrom with both refs', {}, { env: [{ name: 'A', value: '', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } } }] }, 'env[0].valueFrom: expected exactly one of configMapKeyRef, secretKeyRef'],
    ['an envFrom prefix with =', {}, { envFrom: [{ configMapRef: { name: 'c' }, prefix: 'A=' }] }, 'envFrom[0].prefix: must not contain "="'],
  ])('rejects %s', (_what, pod, container, message) => {
    expect(rejection(podWith(pod as Partial<PodTarget>, container))).toContain(message);
  });

  it('carries the volumes RPC both ways', () => {
    expect(decodeRpcRequest(encodeMessage({ schema: 1, id: 'r1', method: 'volumes', params: { action: 'rm', name: 'db' } }))).toEqual({ schema: 1, id: 'r1', method: 'volumes', params: { action: 'rm', name: 'db' } });
    expect(() => decodeRpcRequest(encodeMessage({ schema: 1, id: 'r1', method: 'volumes', params: { action: 'rm', name: '../x' } }))).toThrow('params.name: expected a volume name');
    const res = { schema: 1, id: 'r1', seq: 0, done: true, volumes: [{ name: 'db', createdAt: '2025-01-01T00:00:00.000Z', usedBy: ['web-1_main'] }] };
    expect(decodeRpcResponse(encodeMessage(res))).toEqual(res);
  });
});
