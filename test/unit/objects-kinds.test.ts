import { describe, expect, it } from 'vitest';
import { ALL_KINDS, byResource, KINDS, kindOf } from '../../src/core/objects/kinds.js';
import { checkObject, validate, type KindName } from '../../src/core/objects/validate.js';
import { pathText } from '../../src/core/objects/explain.js';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });
const template = (labels: Record<string, string> = { app: 'web' }, spec: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }], ...spec },
});

/** A real-world shaped object of every kind, as people write them (no defaults). */
const EXAMPLES: { [K in KindName]: Record<string, unknown> } = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: meta('team-a') },
  Node: {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta('pi-1', { labels: { 'kubernetes.io/arch': 'arm64' } }),
    spec: { unschedulable: true, podCIDR: '10.42.1.0/24' },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2025-01-02T03:04:05Z', lastTransitionTime: '2025-01-02T03:04:05Z', reason: 'AgentReady' }],
      nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', kernelVersion: '6.6.31-v8+', containerRuntimeVersion: 'crun 1.14', kubeletVersion: 'grove 0.2.0' },
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '7Gi' },
      addresses: [{ type: 'InternalIP', address: '192.168.1.20' }, { type: 'Hostname', address: 'pi-1' }],
    },
  },
  Pod: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('web-5f6c7d8e9a-x2k4q', {
      namespace: 'default',
      uid: '6f1c2d3e-0a1b-4c5d-8e9f-a0b1c2d3e4f5',
      resourceVersion: '42',
      creationTimestamp: '2025-01-02T03:04:05Z',
      labels: { app: 'web', 'pod-template-hash': '5f6c7d8e9a' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f6c7d8e9a', uid: 'a0b1', controller: true, blockOwnerDeletion: true }],
    }),
    spec: { nodeName: 'pi-1', containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-02T03:04:05Z' }],
      hostIP: '192.168.1.20',
      podIP: '10.42.1.7',
      podIPs: [{ ip: '10.42.1.7' }],
      startTime: '2025-01-02T03:04:05Z',
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          restartCount: 2,
          image: 'docker.io/library/nginx:1.27',
          imageID: 'sha256:' + 'a'.repeat(64),
          state: { running: { startedAt: '2025-01-02T03:04:06Z' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2025-01-02T03:04:05Z' } },
        },
      ],
    },
  },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings'), data: { 'app.conf': 'x=1\n' }, immutable: true },
  Secret: { apiVersion: 'v1', kind: 'Secret', metadata: meta('db'), data: { password: 'aHVudGVyMg==' }, stringData: { user: 'admin' } },
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template() } },
  ReplicaSet: {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta('web-5f6c7d8e9a', { annotations: { 'deployment.kubernetes.io/revision': '2' } }),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5f6c7d8e9a' } }, template: template({ app: 'web', 'pod-template-hash': '5f6c7d8e9a' }) },
    status: { replicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 },
  },
  DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('agent'), spec: { selector: { matchLabels: { app: 'web' } }, template: template() } },
  StatefulSet: {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta('db'),
    spec: {
      serviceName: 'db',
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: template(),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  },
  ControllerRevision: { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta('agent-7c9d8f6b5a'), data: { spec: { template: template() } }, revision: 1 },
  Job: { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('migrate'), spec: { template: template({ app: 'web' }, { restartPolicy: 'Never' }) } },
  CronJob: {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta('backup'),
    spec: { schedule: '0 3 * * *', timeZone: 'Europe/Berlin', jobTemplate: { spec: { template: template({ app: 'web' }, { restartPolicy: 'OnFailure' }) } } },
  },
  Service: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('web', { namespace: 'default' }),
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }], sessionAffinity: 'ClientIP' },
  },
  EndpointSlice: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta('web-abc12', { namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }),
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.42.1.7'], conditions: { ready: true }, nodeName: 'pi-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1' } }],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  },
  Ingress: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta('web', { namespace: 'default' }),
    spec: {
      ingressClassName: 'grove',
      tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
      rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
  },
  IngressClass: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: meta('grove', { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }),
    spec: { controller: 'grove.io/ingress-caddy' },
  },
  PersistentVolumeClaim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta('data', { namespace: 'default' }),
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path' },
  },
  PersistentVolume: {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: meta('media'),
    spec: { capacity: { storage: '100Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/srv/media' } },
  },
  StorageClass: {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: meta('local-path', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
    provisioner: 'rancher.io/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  },
  ServiceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'default' }, automountServiceAccountToken: false },
};

describe('the kind registry', () => {
  it('knows every kind of the issue, each with its resource names', () => {
    expect(ALL_KINDS.map((k) => k.kind).sort()).toEqual(['ConfigMap', 'ControllerRevision', 'CronJob', 'DaemonSet', 'Deployment', 'EndpointSlice', 'Ingress', 'IngressClass', 'Job', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'Pod', 'ReplicaSet', 'Secret', 'Service', 'ServiceAccount', 'StatefulSet', 'StorageClass']);
    expect(KINDS.Deployment).toMatchObject({ apiVersion: 'apps/v1', group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', namespaced: true, hasStatus: true });
    expect(KINDS.Node).toMatchObject({ apiVersion: 'v1', group: '', plural: 'nodes', namespaced: false });
    expect(KINDS.ConfigMap.hasStatus).toBe(false);
  });

  it('finds kinds by apiVersion and kind, and by what kubectl accepts as a resource', () => {
    expect(kindOf('apps/v1', 'Deployment')).toBe(KINDS.Deployment);
    expect(kindOf('v1', 'Deployment')).toBeUndefined();
    expect(kindOf('extensions/v1beta1', 'Deployment')).toBeUndefined();
    const short: Record<string, KindName> = { deploy: 'Deployment', rs: 'ReplicaSet', ds: 'DaemonSet', po: 'Pod', no: 'Node', cm: 'ConfigMap', ns: 'Namespace', cj: 'CronJob', svc: 'Service', sts: 'StatefulSet' };
    for (const [name, kind] of Object.entries(short)) expect(byResource(name)?.kind).toBe(kind);
    expect(byResource('Deployments')?.kind).toBe('Deployment');
    expect(byResource('deployment')?.kind).toBe('Deployment');
    expect(byResource('deployments.apps')?.kind).toBe('Deployment');
    expect(byResource('jobs.batch')?.kind).toBe('Job');
    expect(byResource('deployments.batch')).toBeUndefined();
    expect(byResource('services')?.kind).toBe('Service');
    expect(byResource('endpointslices.discovery.k8s.io')?.kind).toBe('EndpointSlice');
    expect(byResource('networkpolicies')).toBeUndefined();
  });

  it('validates with each kind\'s own validator', () => {
    for (const k of ALL_KINDS) {
      const result = k.validate(EXAMPLES[k.kind]);
      expect(result.ok, `${k.kind}: ${JSON.stringify(result)}`).toBe(true);
    }
    expect(KINDS.Pod.validate(EXAMPLES.Deployment).ok).toBe(false);
  });
});

describe('every kind', () => {
  it.each(Object.keys(EXAMPLES) as KindName[])('%s: a real-world object passes schema and rules, and the input is not changed', (kind) => {
    const input = structuredClone(EXAMPLES[kind]);
    const result = checkObject(kind, input);
    expect(result.ok ? [] : result.problems.map((p) => `${pathText(p.path)}: ${p.reason}`)).toEqual([]);
    expect(input).toEqual(EXAMPLES[kind]);
  });

  it.each(Object.keys(EXAMPLES) as KindName[])('%s: refuses an unknown top-level field, naming it', (kind) => {
    const result = checkObject(kind, { ...EXAMPLES[kind], sepc: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ path: ['sepc'], reason: expect.stringMatching(/^unknown field/), rank: 0 });
  });

  it.each(Object.keys(EXAMPLES) as KindName[])('%s: refuses a wrong apiVersion or kind', (kind) => {
    expect(validate(kind, { ...EXAMPLES[kind], apiVersion: 'v2' }).ok).toBe(false);
    expect(validate(kind, { ...EXAMPLES[kind], kind: 'Other' }).ok).toBe(false);
  });

  it('accepts what the server sets in metadata (get -o yaml applies back) and refuses what Grove does not do', () => {
    const m = { uid: 'u', resourceVersion: '12', generation: 3, creationTimestamp: '2025-01-02T03:04:05Z', deletionTimestamp: '2025-01-02T03:04:05Z' };
    expect(validate('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', m) }).ok).toBe(true);
    expect(validate('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { creationTimestamp: null }) }).ok).toBe(true);
    for (const [field, reason] of [['generateName', 'not supported yet'], ['selfLink', 'set by the API server: remove it']] as const) {
      const r = checkObject('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { [field]: [] }) });
      expect(r.ok ? undefined : r.problems[0]).toEqual({ path: ['metadata', field], reason, at: 'key', rank: 0 });
    }
    // Server-side apply's field managers and the server's own finalizers read back and apply back.
    const managed = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2025-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:mode': {} } } }];
    expect(validate('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { managedFields: managed, finalizers: ['foregroundDeletion'] }) }).ok).toBe(true);
    const f = checkObject('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { finalizers: ['example.com/keep'] }) });
    expect(f.ok ? undefined : f.problems[0]?.reason).toContain('Grove sets finalizers itself');
    const r = checkObject('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { resourceVersion: 'abc' }) });
    expect(r.ok ? undefined : r.problems[0]?.reason).toBe('must be a resource version (digits)');
  });

  it('keeps cluster-scoped kinds out of namespaces, and one controller per object', () => {
    const r = checkObject('Node', { ...EXAMPLES.Node, metadata: meta('pi-1', { namespace: 'default' }) });
    expect(r.ok ? [] : r.problems).toEqual([{ path: ['metadata', 'namespace'], reason: 'a Node is cluster-scoped: it has no namespace' }]);
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: 'u', controller: true };
    const p = checkObject('Pod', { ...EXAMPLES.Pod, metadata: meta('p', { ownerReferences: [owner, { ...owner, name: 'b' }] }) });
    expect(p.ok ? [] : p.problems).toEqual([{ path: ['metadata', 'ownerReferences', 1, 'controller'], reason: 'only one owner can be the controller' }]);
  });

  it('caps an object\'s annotations at 256 KiB together, as Kubernetes does', () => {
    const annotations = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`example.com/a${i}`, 'x'.repeat(60 * 1024)]));
    const r = checkObject('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta('settings', { annotations }) });
    expect(r.ok ? [] : r.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^307270 bytes: at most 262144 \(256 KiB\) of annotations/)]);
  });

  it('holds names to each kind\'s rule', () => {
    const long = 'a'.repeat(64);
    expect(checkObject('ConfigMap', { ...EXAMPLES.ConfigMap, metadata: meta(`${long}.b`) }).ok).toBe(true);
    const problems = (kind: KindName, name: string) => {
      const r = checkObject(kind, { ...EXAMPLES[kind], metadata: meta(name) });
      return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
    };
    expect(problems('Deployment', long)).toEqual(['metadata.name: longer than 63 characters']);
    expect(problems('CronJob', 'a'.repeat(53))).toEqual(['metadata.name: longer than 52 characters']);
    expect(problems('Node', 'pi.1')[0]).toMatch(/^metadata\.name: must be a DNS label/);
    expect(problems('Namespace', 'Team')).toContainEqual(expect.stringMatching(/^metadata\.name: must be a DNS label/));
    expect(problems('Pod', 'Web_1')[0]).toMatch(/^metadata\.name: must be a DNS subdomain/);
  });
});
