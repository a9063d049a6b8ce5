/**
 * Manifest errors on the object path (manifestsToObjects): file:line, document, resource and
 * field path; units and did-you-mean in the reasons; the text limits. Ported from the 0.1
 * parser's tests (parseManifests, gone with the App model) where manifest-objects.test.ts did
 * not already cover them; the wording is the object path's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const problemsOf = (text: string, file = 'deploy.yaml') => manifestsToObjects([{ path: file, text }]).problems;
const linesOf = (text: string, file?: string) => problemsOf(text, file).map((p) => p.text);
/** The one problem of `text` (fails the test if there are none or several). */
function lineOf(text: string, file?: string): string {
  const lines = linesOf(text, file);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** A valid Deployment "web"; `edit` changes its text to make it invalid. */
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: busybox
          resources:
            limits:
              memory: 64Mi
`;
const edited = (from: string, to: string) => {
  expect(DEPLOYMENT).toContain(from);
  return DEPLOYMENT.replace(from, to);
};
const CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n';

describe('manifest errors (object path)', () => {
  it('accepts the Deployment the cases below break', () => {
    expect(linesOf(DEPLOYMENT)).toEqual([]);
  });

  it('reports malformed YAML as file:line and one line', () => {
    const line = lineOf(fixture('bad/malformed.yaml'), 'malformed.yaml');
    expect(line).toMatch(/^malformed\.yaml:4: \S.*$/);
    expect(line).not.toContain('\n');
    // A duplicate key is no YAML error (kubectl reads the last value): see manifests-kubectl-yaml.test.ts.
    expect(lineOf('a: 1\na: 2\n')).toMatch(/^deploy\.yaml:1 \(document 1\): is neither a Kubernetes object/);
  });

  it('reports the file, line, document, resource and field path', () => {
    const [problem, ...rest] = problemsOf(`${CONFIGMAP}---\n${edited('memory: 64Mi', 'memory: 64Mq')}`);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({
      text: 'deploy.yaml:25 (document 2, Deployment "web"): spec.template.spec.containers[0].resources.limits.memory: "64Mq" is not a size (use e.g. 64Mi, 1Gi or 500M)',
      file: 'deploy.yaml',
      document: 2,
      line: 25,
      path: 'spec.template.spec.containers[0].resources.limits.memory',
      resource: 'Deployment "web"',
    });
  });

  it.each([
    ['a Job as apps/v1', 'kind: Deployment', 'kind: Job', 'apiVersion: "apps/v1" is not supported: Job is batch/v1'],
    ['an old apiVersion', 'apiVersion: apps/v1', 'apiVersion: extensions/v1beta1', 'apiVersion: "extensions/v1beta1" is not supported: Deployment is apps/v1'],
    ['a probe with a misspelt field', '          resources:', '          readinessProbe: { tcpSocket: { port: 80 }, periodSecond: 5 }\n          resources:', 'readinessProbe.periodSecond: unknown field (did you mean periodSeconds?)'],
    ['an nfs volume', '      containers:', '      volumes: [{ name: data, nfs: { server: x, path: / } }]\n      containers:', 'spec.template.spec.volumes[0].nfs: not supported yet'],
    ['an unknown top-level field', 'spec:\n  replicas', 'extra: 1\nspec:\n  replicas', 'deploy.yaml:5 (document 1, Deployment "web"): extra: unknown field'],
    ['an SCTP port', '          resources:', '          ports: [{ containerPort: 80, protocol: SCTP }]\n          resources:', 'spec.template.spec.containers[0].ports[0].protocol: "SCTP"'],
    ['a fieldRef of an unknown field', '          resources:', '          env: [{ name: A, valueFrom: { fieldRef: { fieldPath: x } } }]\n          resources:', 'spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "x" must be one of metadata.name'],
    ['the OnDelete strategy on a Deployment', '  replicas: 2', '  replicas: 2\n  strategy: { type: OnDelete }', 'spec.strategy.type: "OnDelete"'],
    ['a percentage over 100%', '  replicas: 2', '  replicas: 2\n  strategy: { rollingUpdate: { maxSurge: 150% } }', 'spec.strategy.rollingUpdate.maxSurge: "150%"'],
    ['a bad auto-rollback annotation', '  name: web\n', '  name: web\n  annotations: { grove.io/auto-rollback: "no" }\n', 'metadata.annotations["grove.io/auto-rollback"]'],
    ['minReadySeconds', '  replicas: 2', '  replicas: 2\n  minReadySeconds: 5', 'spec.minReadySeconds: not supported yet'],
    ['a memory limit below 6Mi', 'memory: 64Mi', 'memory: 1Mi', 'limits.memory: "1Mi" is below the minimum of 6Mi'],
    ['a bad cpu', 'memory: 64Mi', 'cpu: lots', 'limits.cpu: "lots" is not a CPU amount'],
    ['a missing image', '          image: busybox\n', '', 'deploy.yaml:16 (document 1, Deployment "web"): spec.template.spec.containers[0].image: required field is missing'],
    ['a bad label value', 'labels:\n        app: web', 'labels:\n        app: web\n        note: two words', 'spec.template.metadata.labels.note: "two words" must be a label value'],
    ['a bad nodeSelector key', '      containers:', '      nodeSelector: { "a b": c }\n      containers:', 'spec.template.spec.nodeSelector["a b"]: key "a b" must be a label key'],
  ])('rejects %s', (_what, from, to, message) => {
    expect(lineOf(edited(from, to))).toContain(message);
  });

  it('points into List items', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n  - ${CONFIGMAP.trimEnd().replaceAll('\n', '\n    ')}\n  - apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    metadata: { name: nightly }\n`;
    expect(lineOf(list)).toBe('deploy.yaml:9 (document 1, HorizontalPodAutoscaler "nightly"): items[1]: kind HorizontalPodAutoscaler is not supported yet (supported: Namespace, ConfigMap, Secret, Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, EndpointSlice, Ingress, IngressClass, PersistentVolumeClaim, PersistentVolume, StorageClass, ServiceAccount)');
  });

  it('rejects Secret problems without printing the values', () => {
    const secret = (data: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n${data}`;
    expect(lineOf(secret('data:\n  raw: //79\n'))).toBe('deploy.yaml:6 (document 1, Secret "db"): data.raw: is not UTF-8 text: binary Secret values are not supported yet');
    expect(lineOf(secret('type: kubernetes.io/service-account-token\n'))).toBe(
      'deploy.yaml:5 (document 1, Secret "db"): type: "kubernetes.io/service-account-token" must be one of Opaque, kubernetes.io/tls, kubernetes.io/basic-auth, kubernetes.io/dockerconfigjson',
    );
  });

  it('rejects documents that are neither Kubernetes nor compose', () => {
    expect(lineOf('just text\n')).toBe('deploy.yaml:1 (document 1): must be a mapping: a Kubernetes object (apiVersion, kind) or a compose file (services)');
    expect(lineOf('name: x\n')).toBe('deploy.yaml:1 (document 1): is neither a Kubernetes object (it has no apiVersion and kind) nor a compose file (it has no services)');
    expect(lineOf('apiVersion: v1\nmetadata: { name: x }\n')).toBe('deploy.yaml:1 (document 1): kind: required field is missing (every Kubernetes object has apiVersion and kind)');
  });

  it('limits the text to 1 MiB and 200 documents', () => {
    expect(lineOf(`# ${'x'.repeat(1024 * 1024)}\n`)).toMatch(/^deploy\.yaml: manifest is larger than 1 MiB/);
    expect(lineOf(`${CONFIGMAP}---\n`.repeat(200) + CONFIGMAP)).toBe('deploy.yaml: too many YAML documents (201, the limit is 200)');
  });

  it('refuses YAML alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(lineOf(bomb.join('\n'))).toMatch(/^deploy\.yaml:\d+: .*alias/i);
  });
});
