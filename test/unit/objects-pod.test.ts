import { describe, expect, it } from 'vitest';
import { defaultImagePullPolicy, defaultPodSpec } from '../../src/core/objects/defaults.js';
import { pathText } from '../../src/core/objects/explain.js';
import type { PodSpec } from '../../src/core/objects/pod.js';
import { podSpecProblems } from '../../src/core/objects/pod-rules.js';
import { containerResources } from '../../src/core/objects/resources.js';
import { podSpecHash, podTemplateHash } from '../../src/core/objects/template-hash.js';
import { checkObject, validatePodSpec } from '../../src/core/objects/validate.js';

const container = (extra: Record<string, unknown> = {}) => ({ name: 'web', image: 'nginx:1.27', ...extra });

function problems(spec: unknown): string[] {
  const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec }, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
}

function defaulted(spec: unknown): PodSpec {
  const r = validatePodSpec(spec);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

describe('PodSpec defaults', () => {
  it('applies every Kubernetes default a schema can express', () => {
    const spec = defaulted({
      containers: [
        container({
          ports: [{ containerPort: 80 }],
          livenessProbe: { httpGet: { port: 80 } },
          readinessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
          startupProbe: { tcpSocket: { port: 80 } },
        }),
      ],
      volumes: [{ name: 'c', configMap: { name: 'settings' } }, { name: 's', secret: { secretName: 'db' } }],
    });
    expect(spec.restartPolicy).toBe('Always');
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    const c = spec.containers[0]!;
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    const timing = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };
    expect(c.livenessProbe).toEqual({ httpGet: { port: 80, scheme: 'HTTP' }, ...timing });
    expect(c.readinessProbe).toEqual({ exec: { command: ['true'] }, ...timing, periodSeconds: 5 });
    expect(c.startupProbe).toEqual({ tcpSocket: { port: 80 }, ...timing });
    expect(spec.volumes![0]!.configMap!.defaultMode).toBe(0o644);
    expect(spec.volumes![1]!.secret!.defaultMode).toBe(0o644);
    // What Kubernetes leaves unset stays unset.
    expect(spec).not.toHaveProperty('hostNetwork');
    expect(c).not.toHaveProperty('imagePullPolicy');
  });

  it('applies the defaults that need code: imagePullPolicy, and requests from limits on pods only', () => {
    expect(defaultImagePullPolicy('nginx')).toBe('Always');
    expect(defaultImagePullPolicy('nginx:latest')).toBe('Always');
    expect(defaultImagePullPolicy('registry.local:5000/team/app')).toBe('Always');
    expect(defaultImagePullPolicy('nginx:1.27')).toBe('IfNotPresent');
    expect(defaultImagePullPolicy(`nginx@sha256:${'a'.repeat(64)}`)).toBe('IfNotPresent');
    expect(defaultImagePullPolicy('Not An Image')).toBe('IfNotPresent');
    const spec = defaulted({
      containers: [container({ image: 'busybox', resources: { limits: { memory: '64Mi', cpu: '1' }, requests: { cpu: '250m' } } })],
      initContainers: [{ name: 'init', image: 'busybox:1.36', imagePullPolicy: 'Never' }],
    });
    const template = defaultPodSpec(spec, 'template');
    expect(template.containers[0]!.imagePullPolicy).toBe('Always');
    expect(template.initContainers![0]!.imagePullPolicy).toBe('Never');
    expect(template.containers[0]!.resources).toEqual({ limits: { memory: '64Mi', cpu: '1' }, requests: { cpu: '250m' } });
    const pod = defaultPodSpec(spec, 'pod');
    expect(pod.containers[0]!.resources!.requests).toEqual({ cpu: '250m', memory: '64Mi' });
    // The input is a template others share: never changed.
    expect(spec.containers[0]).not.toHaveProperty('imagePullPolicy');
  });
});

describe('PodSpec schema', () => {
  it('rejects every field Grove does not implement by name, never silently', () => {
    const podFields = ['priorityClassName', 'activeDeadlineSeconds', 'os', 'resources'];
    for (const field of podFields) expect(problems({ containers: [container()], [field]: {} }), field).toEqual([`spec.${field}: not supported yet`]);
    const containerFields = ['volumeDevices', 'stdin', 'tty', 'resizePolicy'];
    for (const field of containerFields) expect(problems({ containers: [container({ [field]: {} })] }), field).toEqual([`spec.containers[0].${field}: not supported yet`]);
    expect(problems({ containers: [container({ securityContext: { procMount: 'Unmasked' } })] })).toEqual(['spec.containers[0].securityContext.procMount: not supported yet']);
    expect(problems({ containers: [container()], securityContext: { supplementalGroupsPolicy: 'Strict' } })).toEqual(['spec.securityContext.supplementalGroupsPolicy: not supported yet']);
    expect(problems({ containers: [container({ resources: { limits: { 'nvidia.com/gpu': 1 } } })] })).toEqual([
      'spec.containers[0].resources.limits["nvidia.com/gpu"]: not supported yet: Grove limits memory, cpu and grove.io/pids only',
    ]);
    expect(problems({ containers: [container({ resources: { claims: [] } })] })).toEqual(['spec.containers[0].resources.claims: not supported yet']);
    expect(problems({ containers: [container({ livenessProbe: { grpc: { port: 1 }, terminationGracePeriodSeconds: 5 } })] })).toContain('spec.containers[0].livenessProbe.terminationGracePeriodSeconds: not supported yet');
    expect(problems({ containers: [container()], volumes: [{ name: 'v', nfs: { server: 'x' } }] })).toContain('spec.volumes[0].nfs: not supported yet');
    expect(problems({ containers: [container({ env: [{ name: 'A', valueFrom: { fileKeyRef: {} } }] })] })).toContain('spec.containers[0].env[0].valueFrom.fileKeyRef: not supported yet');
    expect(problems({ containers: [container({ volumeMounts: [{ name: 'v', mountPath: '/x', mountPropagation: 'Bidirectional' }] })] })).toContain(
      'spec.containers[0].volumeMounts[0].mountPropagation: not supported yet',
    );
  });

  it('says what a typo meant', () => {
    expect(problems({ containers: [container({ imagee: 'x' })] })).toEqual(['spec.containers[0].imagee: unknown field (did you mean image?)']);
    expect(problems({ containers: [container()], nodeSelecter: {} })).toEqual(['spec.nodeSelecter: unknown field (did you mean nodeSelector?)']);
  });

  it('keeps Grove\'s limits', () => {
    expect(problems({ containers: Array.from({ length: 33 }, (_, i) => container({ name: `c${i}` })) })).toEqual(['spec.containers: more than 32 items']);
    expect(problems({ containers: [container({ image: 'x'.repeat(1025) })] })).toEqual(['spec.containers[0].image: longer than 1024 characters']);
    expect(problems({ containers: [container({ env: Array(1001).fill({ name: 'A', value: '' }) })] })).toEqual(['spec.containers[0].env: more than 1000 items']);
    expect(problems({ containers: [container()], terminationGracePeriodSeconds: 3601 })).toEqual(['spec.terminationGracePeriodSeconds: must be ≤ 3600, got 3601']);
    expect(problems({ containers: [container({ livenessProbe: { exec: { command: ['x'] }, periodSeconds: 3601 } })] })).toEqual([
      'spec.containers[0].livenessProbe.periodSeconds: must be ≤ 3600, got 3601',
    ]);
    expect(problems({ containers: [container()], volumes: Array.from({ length: 65 }, (_, i) => ({ name: `v${i}`, emptyDir: {} })) })).toEqual(['spec.volumes: more than 64 items']);
  });

  it('words the rules of single fields from the schema', () => {
    expect(problems({ containers: [container({ ports: [{ containerPort: 80, protocol: 'SCTP' }] })] })).toEqual([
      'spec.containers[0].ports[0].protocol: "SCTP" must be TCP or UDP (SCTP is not supported)',
    ]);
    expect(problems({ containers: [container({ ports: [{ containerPort: 80, hostIP: '127.0.0.1' }] })] })).toEqual(['spec.containers[0].ports[0].hostIP: needs hostPort']);
    expect(problems({ containers: [container({ workingDir: 'srv' })] })).toEqual(['spec.containers[0].workingDir: "srv" must be an absolute path']);
    expect(problems({ containers: [container({ env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })] })).toEqual([
      'spec.containers[0].env[0].value: "x" cannot be combined with valueFrom',
    ]);
    expect(problems({ containers: [container({ securityContext: { seccompProfile: { type: 'Localhost' } } })] })).toEqual([
      'spec.containers[0].securityContext.seccompProfile.localhostProfile: required',
    ]);
    expect(problems({ containers: [container({ securityContext: { seccompProfile: { type: 'Unconfined', localhostProfile: 'a.json' } } })] })).toEqual([
      'spec.containers[0].securityContext.seccompProfile.localhostProfile: can only be set when type is Localhost',
    ]);
    expect(problems({ containers: [container({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../a.json' } } })] })[0]).toMatch(
      /localhostProfile: "\.\.\/a\.json" must be a plain path relative/,
    );
    expect(problems({ containers: [container()], initContainers: [container({ name: 'init', readinessProbe: { exec: { command: ['true'] } } })] })).toEqual([
      'spec.initContainers[0].readinessProbe: init containers cannot have probes (they run to completion) unless restartPolicy is Always (a sidecar)',
    ]);
    expect(problems({ containers: [container()], volumes: [{ name: 'h', hostPath: { path: '/srv/data', type: 'ComposeBind' } }] })).toEqual([]);
  });

  it('reports every problem of a spec at once', () => {
    const all = problems({ containers: [container({ imagee: 1, ports: [{ containerPort: 0 }] }), container()], restartPolicy: 'Sometimes' });
    expect(all).toEqual([
      'spec.containers[0].imagee: unknown field (did you mean image?)',
      'spec.containers[0].ports[0].containerPort: must be ≥ 1, got 0',
      'spec.restartPolicy: "Sometimes" expected one of Always, OnFailure, Never',
    ]);
  });
});

describe('PodSpec rules', () => {
  const rules = (spec: unknown) => podSpecProblems(defaulted(spec)).map((p) => `${pathText(p.path)}: ${p.reason}`);

  it('finds what a schema cannot see, all of it', () => {
    expect(
      rules({
        containers: [
          container({ volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'nope', mountPath: '/data/' }], ports: [{ containerPort: 80, hostPort: 8080 }] }),
          container({ ports: [{ containerPort: 81, hostPort: 8080 }], resources: { limits: { memory: '4Mi' } } }),
        ],
        initContainers: [container({ name: 'web' })],
        volumes: [
          { name: 'data', emptyDir: { sizeLimit: '2Ti' } },
          { name: 'data', configMap: { name: 'c', items: [{ key: 'a', path: 'x' }, { key: 'b', path: './x' }] } },
        ],
      }),
    ).toEqual([
      'containers[1].name: "web" is used by another container of this pod',
      'initContainers[0].name: "web" is also the name of a container of this pod',
      'volumes[0].emptyDir.sizeLimit: "2Ti" must be from 4Ki to 1Ti',
      'volumes[1].name: "data" is used by another volume of this pod',
      'volumes[1].configMap.items[1].path: "./x" is used by another item',
      'containers[0].volumeMounts[1].name: no volume named "nope" in this pod\'s volumes',
      'containers[0].volumeMounts[1].mountPath: "/data/" is the mount path of another mount of this container',
      'containers[1].resources.limits.memory: "4Mi" is below the minimum of 6Mi',
      'containers[1].ports[0].hostPort: hostPort 8080/TCP is already claimed by container "web" of this pod',
    ]);
    expect(rules({ containers: [container()] })).toEqual([]);
  });

  it('parses quantities as Kubernetes does, and checks requests against limits', () => {
    expect(containerResources({ limits: { memory: '64Mi', cpu: '500m', 'grove.io/pids': '100' }, requests: { memory: '64M' } })).toEqual({
      memoryBytes: 64 * 2 ** 20,
      cpus: 0.5,
      pidsLimit: 100,
      requestMemoryBytes: 64_000_000,
      requestCpus: 0.5,
    });
    expect(containerResources(undefined)).toEqual({});
    expect(rules({ containers: [container({ resources: { limits: { cpu: '1' }, requests: { cpu: 2 } } })] })).toEqual([
      'containers[0].resources.requests.cpu: "2" must not be more than the limit "1"',
    ]);
    expect(rules({ containers: [container({ resources: { limits: { 'grove.io/pids': '10k' } } })] })).toEqual([
      'containers[0].resources.limits["grove.io/pids"]: "10k" is not a number of processes (-1 or 0 for no limit, up to 4194304)',
    ]);
    expect(rules({ containers: [container({ resources: { limits: { memory: '32m' } } })] })[0]).toMatch(/millibytes in Kubernetes: write 32Mi/);
  });
});

describe('template hashes', () => {
  const spec = () => defaulted({ containers: [container()] });

  it('are 10 hex characters, independent of key order and of the hash labels themselves', () => {
    const t = { metadata: { labels: { app: 'web', tier: 'front' } }, spec: spec() };
    const h = podTemplateHash(t);
    expect(h).toMatch(/^[0-9a-f]{10}$/);
    const reordered = { spec: t.spec, metadata: { labels: { tier: 'front', app: 'web' } } };
    expect(podTemplateHash(reordered)).toBe(h);
    expect(podTemplateHash({ ...t, metadata: { labels: { ...t.metadata.labels, 'pod-template-hash': h } } })).toBe(h);
    expect(podTemplateHash({ ...t, metadata: { labels: { ...t.metadata.labels, 'controller-revision-hash': 'x' } } })).toBe(h);
  });

  it('change with the template, the annotations and a collision count', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: spec() };
    const h = podTemplateHash(t);
    expect(podTemplateHash({ ...t, spec: { ...t.spec, terminationGracePeriodSeconds: 5 } })).not.toBe(h);
    expect(podTemplateHash({ ...t, metadata: { ...t.metadata, annotations: { 'grove.io/restartedAt': '2025-01-01T00:00:00Z' } } })).not.toBe(h);
    expect(podTemplateHash(t, 1)).not.toBe(h);
    expect(podTemplateHash(t, 0)).toBe(h);
    expect(podSpecHash(t.spec)).toBe(podTemplateHash({ spec: t.spec }));
  });
});

describe('schema messages', () => {
  it('say a map is expected where one is, whatever its own message says of its fields', () => {
    expect(problems({ containers: [container()], volumes: ['data'] })).toEqual(['spec.volumes[0]: expected a map, got string']);
    expect(problems({ containers: [container({ ports: [{ containerPort: 'http' }] })] })).toEqual([
      'spec.containers[0].ports[0].containerPort: must be a port number 1-65535',
    ]);
    expect(problems({ containers: [container({ resources: { limits: { memory: true } } })] })).toEqual([
      'spec.containers[0].resources.limits.memory: expected a string or a number (a size such as 64Mi, 1Gi or 500M), got boolean',
    ]);
  });
});
