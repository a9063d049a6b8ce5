/**
 * Schema-1 node targets (0.1's) converted to schema 2 on decode: every field keeps its meaning,
 * and what the agent reads through pod-fields / containerRunSpec equals what 0.1 read.
 */
import { describe, expect, it } from 'vitest';
import { containerRunSpec } from '../../agent/src/agent/container-run-spec.js';
import { containerName, managedLabels } from '../../agent/src/agent/node-runtime.js';
import { cronOf, dependenciesOf, envFromOf, envOf, jobOf, podApp, podKey, portsOf, probesOf, restartPolicyOf, sandboxRequestOf, updatePolicyOf, volumesOf } from '../../agent/src/agent/plan/pod-fields.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { encodeMessage } from '../../src/core/wire-codec.js';
import { decodeAnyNodeTarget, decodeNodeTarget2, decodeTargetMessage } from '../../src/core/wire-target.js';
import type { ContainerTarget, PodTarget } from '../../src/core/wire-types.js';
import { targetWith } from './wire-fixtures.js';

const probe = { initialDelaySeconds: 5, periodSeconds: 7, timeoutSeconds: 2, failureThreshold: 4, successThreshold: 1 };

/** A 0.1 container with every field the 0.1 target could carry. */
const full: ContainerTarget = {
  name: 'app',
  image: 'reg.lan/app:latest',
  command: ['/bin/app'],
  args: ['--port', '80'],
  env: [
    { name: 'MODE', value: 'prod' },
    { name: 'TOKEN', value: '', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
  ],
  envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'S_' }],
  workingDir: '/srv',
  resources: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 100, requestMemoryBytes: 32 * 1024 * 1024 },
  probes: { liveness: { httpGet: { path: '/healthz', port: 80 }, ...probe }, readiness: { tcpSocket: { port: 80 }, ...probe } },
  privileged: true,
  seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' },
  ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
  volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'fast', mountPath: '/fast', readOnly: true }],
};

const fullPod: PodTarget = {
  name: 'web-5f6c-x2k4',
  app: 'web',
  templateHash: '5f6c7d8e9a0b1c2d',
  restartPolicy: 'Always',
  hostNetwork: false,
  terminationGracePeriodSeconds: 12,
  update: { window: { schedule: '0 2 * * *', durationSeconds: 5400, timeZone: 'Europe/Berlin' }, lockMaxSeconds: 0 },
  devices: [{ hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'rw' }, { hostPath: '/dev/ttyUSB0', containerPath: '/dev/modem', permissions: 'rwm' }],
  supplementalGroups: ['20', 'dialout'],
  initContainers: [{ name: 'setup', image: 'busybox', env: [], resources: {} }],
  containers: [full],
  volumes: [
    { name: 'data', hostPath: { path: '/srv/data', type: 'ComposeBind' } },
    { name: 'fast', emptyDir: { medium: 'Memory', sizeLimitBytes: 8 * 1024 * 1024 } },
  ],
  dependsOn: [{ app: 'db', condition: 'healthy' }],
};

const decode = (pods: PodTarget[]) => decodeAnyNodeTarget(encodeMessage(targetWith(pods)));

describe('schema-1 target converted to schema 2', () => {
  it('keeps identity: name, templateHash, namespace default, the app as owner', () => {
    const t = decode([fullPod]);
    expect(t.schema).toBe(2);
    const [p] = t.pods;
    expect(p).toMatchObject({ name: 'web-5f6c-x2k4', namespace: 'default', uid: '0.1:web-5f6c-x2k4', templateHash: '5f6c7d8e9a0b1c2d', owner: { kind: 'Deployment', name: 'web', uid: '0.1:web' } });
    // 0.1's container names and labels, so its containers are adopted.
    expect(podKey(p!)).toBe('web-5f6c-x2k4');
    expect(podApp(p!)).toBe('web');
    expect(containerName(p!, 'app')).toBe('web-5f6c-x2k4_app');
    expect(managedLabels(p!, p!.spec.containers[0]!)).toEqual({
      'grove.managed': 'agent',
      'grove.pod': 'web-5f6c-x2k4',
      'grove.app': 'web',
      'grove.container': 'app',
      'grove.template-hash': '5f6c7d8e9a0b1c2d',
    });
  });

  it('gives the runtime what 0.1 gave it', () => {
    const [p] = decode([fullPod]).pods;
    const c = p!.spec.containers[0]!;
    expect(containerRunSpec(p!, c)).toEqual({
      image: 'reg.lan/app:latest',
      entrypoint: ['/bin/app'],
      args: ['--port', '80'],
      workingDir: '/srv',
      limits: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 100 },
      hostNetwork: false,
      devices: [{ hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'rw' }, { hostPath: '/dev/ttyUSB0', containerPath: '/dev/modem', permissions: 'rwm' }],
      groupAdd: ['20', 'dialout'],
      privileged: true,
      seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' },
      // Absent meant IfNotPresent in schema 1, `:latest` too.
      pullPolicy: 'IfNotPresent',
    });
    expect(envOf(c)).toEqual(full.env);
    expect(envFromOf(c)).toEqual(full.envFrom);
    expect(probesOf(c)).toEqual(full.probes);
    expect(portsOf(c)).toEqual(full.ports);
    expect(volumesOf(p!)).toEqual(fullPod.volumes);
    expect(restartPolicyOf(p!)).toBe('Always');
    expect(p!.spec.terminationGracePeriodSeconds).toBe(12);
    expect(updatePolicyOf(p!)).toEqual(fullPod.update);
    expect(dependenciesOf(p!)).toEqual(fullPod.dependsOn);
    expect(sandboxRequestOf(p!)).toEqual({ pod: 'web-5f6c-x2k4', hostname: 'web-5f6c-x2k4', app: 'web', hostNetwork: false, ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], dns: { namespace: 'default', policy: 'ClusterFirst' } });
    expect(p!.spec.initContainers?.map((i) => i.name)).toEqual(['setup']);
  });

  it('carries Job and CronJob settings, the owner kind following them', () => {
    const job = { completions: 3, parallelism: 2, backoffLimit: 1, ttlSecondsAfterFinished: 60 };
    const cron = { schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' as const, successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, suspend: false };
    const one = (name: string, extra: Partial<PodTarget>): PodTarget => ({ name, app: name, templateHash: 'h', restartPolicy: 'Never', hostNetwork: false, containers: [{ name: 'c', image: 'busybox', env: [], resources: {} }], ...extra });
    const [j, cj] = decode([one('migrate', { job }), one('backup', { job, cron })]).pods;
    expect(j!.owner?.kind).toBe('Job');
    expect(jobOf(j!)).toEqual(job);
    expect(cj!.owner?.kind).toBe('CronJob');
    expect(cronOf(cj!)).toEqual(cron);
  });

  it('is a valid schema-2 target; the schema-1 message is what the agent stores', () => {
    const t = decode([fullPod]);
    expect(decodeNodeTarget2(encodeMessage(t))).toEqual(t);
    const { target, stored } = decodeTargetMessage(encodeMessage(targetWith([fullPod])));
    expect(target).toEqual(t);
    expect(stored).toMatchObject({ schema: 1, pods: [{ name: 'web-5f6c-x2k4', app: 'web' }] });
    expect(decodeAnyNodeTarget(encodeMessage(stored))).toEqual(t);
  });

  it('leaves the stop grace to the agent when the schema-1 pod set none, as 0.1 did', () => {
    const { terminationGracePeriodSeconds: _, ...noGrace } = fullPod;
    const [p] = decode([noGrace]).pods;
    expect(p!.spec).not.toHaveProperty('terminationGracePeriodSeconds');
  });

  it('still refuses what schema 1 refused, and other schema versions', () => {
    const bad = targetWith([fullPod]);
    bad.checksum = '0'.repeat(64);
    expect(() => decodeAnyNodeTarget(encodeMessage(bad))).toThrow(/checksum: mismatch/);
    try {
      decodeAnyNodeTarget(encodeMessage({ ...targetWith([]), schema: 3 }));
      expect.unreachable();
    } catch (err) {
      expect(isGroveError(err, ErrorCode.WireInvalid) && err.message).toMatch(/unsupported schema version 3/);
    }
  });
});
