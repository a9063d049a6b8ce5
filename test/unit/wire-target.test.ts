import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import type { WirePodTarget } from '../../src/core/objects/wire.js';
import { decodeNodeTarget } from '../../src/core/wire.js';
import { encodeCanonical, encodeMessage, podsChecksum } from '../../src/core/wire-codec.js';
import { decodeNodeTarget2, makeNodeTarget2, TARGET_SCHEMA } from '../../src/core/wire-target.js';

/** A pod as the server sends it: its stored PodSpec is already defaulted. */
function pod(name = 'web-5f6c7d8e9a-x2k4q', extra: Partial<WirePodTarget> = {}): WirePodTarget {
  return {
    name,
    namespace: 'default',
    uid: '6f1c2d3e-0a1b-4c5d-8e9f-a0b1c2d3e4f5',
    templateHash: '5f6c7d8e9a',
    labels: { app: 'web', 'pod-template-hash': '5f6c7d8e9a' },
    owner: { kind: 'ReplicaSet', name: 'web-5f6c7d8e9a', uid: 'a0b1c2d3-0a1b-4c5d-8e9f-6f1c2d3e4f5a' },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'docker.io/library/nginx:1.27',
          imagePullPolicy: 'IfNotPresent',
          command: ['/docker-entrypoint.sh'],
          args: ['nginx', '-g', 'daemon off;'],
          env: [{ name: 'MODE', value: 'prod' }],
          workingDir: '/srv',
          resources: { limits: { memory: '64Mi', cpu: '500m', 'grove.io/pids': 100 }, requests: { memory: '32Mi', cpu: '500m' } },
          ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    },
    ...extra,
  };
}

const target = (pods: WirePodTarget[] = [pod(), pod('web-5f6c7d8e9a-b7c8d')]) =>
  makeNodeTarget2({ cluster: 'default', node: 'pi-1', revision: 7, pods, issuedAt: '2025-01-02T03:04:05.000Z' });

function rejection(value: unknown): string {
  try {
    decodeNodeTarget2(encodeMessage(value as object));
  } catch (err) {
    if (isGroveError(err, ErrorCode.WireInvalid)) return err.message;
    throw err;
  }
  throw new Error('expected a WireInvalid error');
}

/** A target whose first pod's spec is `spec`, with a matching checksum (a server that sent it). */
function withSpec(spec: unknown): unknown {
  const t = target([{ ...pod(), spec: spec as WirePodTarget['spec'] }]);
  return { ...t, checksum: podsChecksum(t.pods) };
}

const container = (extra: Record<string, unknown> = {}) => ({ name: 'c', image: 'busybox:1.36', ...extra });

describe('node target, schema 2', () => {
  it('round-trips pods as the server sends them', () => {
    const t = target();
    expect(t.schema).toBe(TARGET_SCHEMA);
    expect(decodeNodeTarget2(encodeMessage(t))).toEqual(t);
  });

  it('applies the PodSpec defaults an older server may have left out', () => {
    const t = target([{ ...pod(), spec: { containers: [container({ livenessProbe: { tcpSocket: { port: 80 } } })] } }]);
    const decoded = decodeNodeTarget2(encodeMessage(t)).pods[0]!.spec;
    expect(decoded.restartPolicy).toBe('Always');
    expect(decoded.terminationGracePeriodSeconds).toBe(30);
    expect(decoded.containers[0]!.livenessProbe).toEqual({ tcpSocket: { port: 80 }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  });

  it('encodes an unchanged pod byte-identically, whatever the key order', () => {
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    const a = pod();
    const b = reversed(a) as WirePodTarget;
    expect(Object.keys(b)).toEqual(Object.keys(a).reverse());
    expect(encodeCanonical(b).equals(encodeCanonical(a))).toBe(true);
    expect(target([a]).checksum).toBe(target([b]).checksum);
  });

  it('drops fields this build does not know, and fields its objects refuse by name, checksum intact', () => {
    const p = pod();
    const sent = { ...p, priority: 5, spec: { ...p.spec, ephemeralContainers: [{}], containers: [{ ...p.spec.containers[0]!, stdin: true, extra: 1 }] } };
    const t = makeNodeTarget2({ cluster: 'c', node: 'n', revision: 1, pods: [sent as unknown as WirePodTarget], issuedAt: '2025-01-01T00:00:00Z' });
    const decoded = decodeNodeTarget2(encodeMessage(t));
    expect(decoded.pods[0]).toEqual(p);
    expect(decoded.checksum).toBe(t.checksum);
  });

  it('is refused by a schema-1 decoder, and refuses schema 1 itself', () => {
    expect(() => decodeNodeTarget(encodeMessage(target()))).toThrow('node target for pi-1: unsupported schema version 2 (this build speaks 1)');
    expect(rejection({ ...target(), schema: 1 })).toBe('node target for pi-1: unsupported schema version 1 (this build speaks 2)');
  });

  it('verifies the checksum over the pods as sent', () => {
    const t = target();
    const tampered = structuredClone(t);
    tampered.pods[0]!.spec.containers[0]!.image = 'evil:latest';
    expect(rejection(tampered)).toMatch(/^node target for pi-1: checksum: mismatch/);
  });

  it('refuses a pod listed twice', () => {
    expect(rejection(target([pod(), pod()]))).toBe('node target for pi-1: pods[1]: pod default/web-5f6c7d8e9a-x2k4q appears twice');
  });

  it.each<[string, unknown, string]>([
    ['no containers', { containers: [] }, 'pods[0].spec.containers: at least 1 item required'],
    ['a restart policy', { containers: [container()], restartPolicy: 'Sometimes' }, 'pods[0].spec.restartPolicy: expected one of Always, OnFailure, Never'],
    ['a grace period over an hour', { containers: [container()], terminationGracePeriodSeconds: 3601 }, 'terminationGracePeriodSeconds: must be ≤ 3600, got 3601'],
    ['an empty env name', { containers: [container({ env: [{ name: '' }] })] }, 'containers[0].env[0].name: must not be empty'],
    ['a non-string arg', { containers: [container({ args: ['a', 7] })] }, 'containers[0].args[1]: expected a string, got number'],
    ['an image pull policy', { containers: [container({ imagePullPolicy: 'always' })] }, 'imagePullPolicy: expected one of Always, IfNotPresent, Never'],
    ['two containers of one name', { containers: [container(), container()] }, 'pods[0].spec.containers[1].name: "c" is used by another container of this pod'],
    ['a hostPort claimed twice', { containers: [container({ ports: [{ containerPort: 1, hostPort: 80 }] }), container({ name: 'd', ports: [{ containerPort: 2, hostPort: 80 }] })] }, 'containers[1].ports[0].hostPort: hostPort 80/TCP is already claimed by container "c" of this pod'],
    ['a bad memory quantity', { containers: [container({ resources: { limits: { memory: 'lots' } } })] }, 'containers[0].resources.limits.memory: "lots" is not a size'],
    // The cases of the schema-1 decoder (wire-volumes, wire-probes, wire-jobs tests), in schema-2 form.
    ['a volume with two sources', { containers: [container()], volumes: [{ name: 'a', emptyDir: {}, hostPath: { path: '/x' } }] }, 'pods[0].spec.volumes[0]: expected exactly one of'],
    ['a relative hostPath', { containers: [container()], volumes: [{ name: 'a', hostPath: { path: 'x' } }] }, 'volumes[0].hostPath.path: must be an absolute path'],
    ['an unknown hostPath type', { containers: [container()], volumes: [{ name: 'a', hostPath: { path: '/x', type: 'Dir' } }] }, 'volumes[0].hostPath.type: must be one of'],
    ['a mode above 0777', { containers: [container()], volumes: [{ name: 'a', configMap: { name: 'c', defaultMode: 0o4755 } }] }, 'volumes[0].configMap.defaultMode: must be ≤ 511, got 2541'],
    ['an item escaping', { containers: [container()], volumes: [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: 'a/../../x' }] } }] }, 'items[0].path: must be a relative path inside the volume'],
    ['an item named ..data', { containers: [container()], volumes: [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: '..data' }] } }] }, 'items[0].path: must be a relative path inside the volume'],
    ['a claim that is no DNS label', { containers: [container()], volumes: [{ name: 'a', persistentVolumeClaim: { claimName: '../etc' } }] }, 'claimName: must be a DNS label'],
    ['a mount over /dev', { containers: [container({ volumeMounts: [{ name: 'a', mountPath: '/dev/' }] })], volumes: [{ name: 'a', emptyDir: {} }] }, 'volumeMounts[0].mountPath: is managed by the runtime'],
    ['a mount of no volume', { containers: [container({ volumeMounts: [{ name: 'a', mountPath: '/x' }] })] }, 'volumeMounts[0].name: no volume named "a" in this pod\'s volumes'],
    ['a valueFrom with both refs', { containers: [container({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } } }] })] }, 'env[0].valueFrom: expected exactly one of configMapKeyRef, secretKeyRef'],
    ['an envFrom prefix with =', { containers: [container({ envFrom: [{ configMapRef: { name: 'c' }, prefix: 'A=' }] })] }, 'envFrom[0].prefix: must not contain "="'],
    ['a probe without a handler', { containers: [container({ livenessProbe: { periodSeconds: 5 } })] }, 'livenessProbe: expected exactly one of exec, httpGet, tcpSocket'],
    ['a probe with two handlers', { containers: [container({ readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 1 } } })] }, 'expected exactly one of'],
    ['an empty probe command', { containers: [container({ livenessProbe: { exec: { command: [] } } })] }, 'livenessProbe.exec.command: at least 1 item required'],
    ['a probe port out of range', { containers: [container({ startupProbe: { tcpSocket: { port: 70000 } } })] }, 'startupProbe.tcpSocket.port: must be ≤ 65535, got 70000'],
    ['a probe port name the container lacks', { containers: [container({ startupProbe: { tcpSocket: { port: 'http' } } })] }, 'startupProbe.tcpSocket.port: no port named "http" among this container\'s ports'],
    ['periodSeconds 0', { containers: [container({ readinessProbe: { periodSeconds: 0, tcpSocket: { port: 1 } } })] }, 'readinessProbe.periodSeconds: must be ≥ 1, got 0'],
    ['liveness successThreshold 2', { containers: [container({ livenessProbe: { successThreshold: 2, tcpSocket: { port: 1 } } })] }, 'livenessProbe.successThreshold: must be 1 for liveness and startup probes'],
    ['a header without a name', { containers: [container({ readinessProbe: { httpGet: { port: 1, httpHeaders: [{ name: '', value: 'x' }] } } })] }, 'httpHeaders[0].name: must not be empty'],
  ])('refuses %s', (_what, spec, message) => {
    expect(rejection(withSpec(spec))).toContain(message);
  });

  it.each<[string, Partial<WirePodTarget>, string]>([
    ['completions 0', { job: { completions: 0 } }, 'pods[0].job.completions: must be ≥ 1, got 0'],
    ['a negative backoffLimit', { job: { backoffLimit: -1 } }, 'pods[0].job.backoffLimit: must be ≥ 0'],
    ['a long schedule', { cron: { schedule: 'x'.repeat(200) } }, 'cron.schedule: longer than 128 characters'],
    ['a schedule with a command in it', { cron: { schedule: '* * * * *; rm -rf /' } }, 'cron.schedule: must be a cron schedule'],
    ['a history limit over 100', { cron: { schedule: '* * * * *', successfulJobsHistoryLimit: 101 } }, 'successfulJobsHistoryLimit: must be ≤ 100, got 101'],
    ['a concurrency policy', { cron: { schedule: '* * * * *', concurrencyPolicy: 'Sometimes' as 'Allow' } }, 'concurrencyPolicy: expected one of Allow, Forbid, Replace'],
    ['a suspend that is no boolean', { cron: { schedule: '* * * * *', suspend: 'no' as unknown as boolean } }, 'cron.suspend: expected a boolean, got string'],
  ])('refuses job settings with %s', (_what, extra, message) => {
    expect(rejection(target([pod('backup-1', { ...extra, spec: { containers: [container()], restartPolicy: 'OnFailure' } })]))).toContain(message);
  });

  it('defaults job and cron settings as Kubernetes does', () => {
    const t = target([pod('backup-1', { spec: { containers: [container()], restartPolicy: 'OnFailure' }, job: {}, cron: { schedule: '*/5 * * * *' } })]);
    const decoded = decodeNodeTarget2(encodeMessage(t)).pods[0]!;
    expect(decoded.job).toEqual({ completions: 1, parallelism: 1, backoffLimit: 6 });
    expect(decoded.cron).toEqual({ schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  });

  it('checks the envelope like schema 1 did', () => {
    const t = target();
    expect(rejection({ ...t, node: 'pi/1' })).toMatch(/node: invalid name/);
    expect(rejection({ ...t, revision: -3 })).toMatch(/revision: must be ≥ 0, got -3/);
    expect(rejection({ ...t, checksum: 'abc' })).toMatch(/checksum: expected 64 lowercase hex digits/);
    expect(rejection({ ...t, pods: Array(1001).fill(pod()) })).toMatch(/pods: more than 1000 items/);
    expect(rejection({ ...t, issuedAt: 'yesterday' })).toMatch(/issuedAt: expected an ISO 8601 timestamp/);
    expect(() => makeNodeTarget2({ cluster: 'a#', node: 'n', revision: 1, pods: [], issuedAt: 'x' })).toThrow(/cluster/);
    expect(() => makeNodeTarget2({ cluster: 'a', node: 'n', revision: -1, pods: [], issuedAt: 'x' })).toThrow(/revision/);
  });

  it('turns absurd nesting inside an unknown field into WireInvalid, not a crash', () => {
    const marker = 'ZZZZZZZZ';
    const bytes = encodeMessage(target([{ ...pod(), deep: marker } as WirePodTarget]));
    const at = bytes.indexOf(Buffer.concat([Buffer.from([0x68]), Buffer.from(marker)]));
    const nested = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(500_000, 0x81), Buffer.from([0x00]), bytes.subarray(at + 9)]);
    try {
      decodeNodeTarget2(nested);
      throw new Error('expected a failure');
    } catch (err) {
      expect(isGroveError(err, ErrorCode.WireInvalid)).toBe(true);
    }
  });
});
