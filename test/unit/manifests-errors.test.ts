import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const validator = createManifestValidator();

/** The error parseManifests throws for `text` (fails the test if it throws none). */
function errorOf(text: string, file = 'deploy.yaml'): GroveError {
  try {
    parseManifests(text, { file }, { validator });
  } catch (err) {
    expect(err).toBeInstanceOf(GroveError);
    expect((err as GroveError).code).toBe(ErrorCode.ManifestInvalid);
    return err as GroveError;
  }
  throw new Error('expected a ManifestInvalid error');
}
const messageOf = (text: string, file?: string) => errorOf(text, file).message;

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

describe('manifest errors', () => {
  it('reports malformed YAML as file:line and one line', () => {
    const message = messageOf(fixture('bad/malformed.yaml'), 'malformed.yaml');
    expect(message).toMatch(/^malformed\.yaml:4: \S.*$/);
    expect(message).not.toContain('\n');
    expect(messageOf('a: 1\na: 2\n')).toBe('deploy.yaml:2: Map keys must be unique');
  });

  it('reports the file, line, document, resource and field path', () => {
    const err = errorOf(`${CONFIGMAP}---\n${edited('memory: 64Mi', 'memory: 64Mq')}`);
    expect(err.message).toBe(
      'deploy.yaml:25 (document 2, Deployment "web"): spec.template.spec.containers[0].resources.limits.memory: "64Mq" is not a size (use e.g. 64Mi, 1Gi or 500M)',
    );
    expect(err.details).toEqual({
      file: 'deploy.yaml',
      document: 2,
      line: 25,
      path: 'spec.template.spec.containers[0].resources.limits.memory',
      resource: 'Deployment "web"',
    });
  });

  it.each([
    ['StatefulSet', 'kind: Deployment', 'kind: StatefulSet', 'deploy.yaml:2 (document 1, StatefulSet "web"): kind StatefulSet is not supported yet'],
    ['a Job as apps/v1', 'kind: Deployment', 'kind: Job', 'apiVersion: "apps/v1" is not supported: Job is batch/v1'],
    ['an unknown kind', 'kind: Deployment', 'kind: Gizmo', 'kind Gizmo is not a kind Grove knows (supported: Deployment, DaemonSet, Job, CronJob, ConfigMap, Secret)'],
    ['an old apiVersion', 'apiVersion: apps/v1', 'apiVersion: extensions/v1beta1', 'apiVersion: "extensions/v1beta1" is not supported: Deployment is apps/v1'],
    ['replicas: "three"', 'replicas: 2', 'replicas: three', 'deploy.yaml:6 (document 1, Deployment "web"): spec.replicas: must be an integer (got string "three")'],
    ['too many replicas', 'replicas: 2', 'replicas: 5000', 'spec.replicas: 5000 must be at most 1000'],
    ['a mount of no volume', '          resources:', '          volumeMounts: [{ name: data, mountPath: /data }]\n          resources:', 'deploy.yaml:18 (document 1, Deployment "web"): spec.template.spec.containers[0].volumeMounts[0].name: no volume named "data" in this pod\'s volumes'],
    ['a probe without a handler', '          resources:', '          livenessProbe: { periodSeconds: 5 }\n          resources:', 'containers[0].livenessProbe: needs a handler: a probe has exactly one of exec, httpGet, tcpSocket'],
    ['a probe with two handlers', '          resources:', '          readinessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } }\n          resources:', 'containers[0].readinessProbe: has exec and tcpSocket: a probe has exactly one of exec, httpGet, tcpSocket'],
    ['a named probe port', '          resources:', '          livenessProbe: { httpGet: { path: /, port: http } }\n          resources:', 'containers[0].livenessProbe.httpGet.port: "http": named ports are not supported'],
    ['an HTTPS probe', '          resources:', '          livenessProbe: { httpGet: { port: 443, scheme: HTTPS } }\n          resources:', 'containers[0].livenessProbe.httpGet.scheme: "HTTPS" must be HTTP: HTTPS probes are not supported yet'],
    ['liveness successThreshold 2', '          resources:', '          livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 }\n          resources:', 'containers[0].livenessProbe.successThreshold: must be 1 for a liveness probe'],
    ['periodSeconds 0', '          resources:', '          readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 0 }\n          resources:', 'containers[0].readinessProbe.periodSeconds: 0 must be at least 1'],
    ['an unknown probe field', '          resources:', '          readinessProbe: { tcpSocket: { port: 80 }, periodSecond: 5 }\n          resources:', 'containers[0].readinessProbe.periodSecond: unknown field (did you mean periodSeconds?)'],
    ['a grpc probe', '          resources:', '          readinessProbe: { grpc: { port: 80 } }\n          resources:', 'containers[0].readinessProbe.grpc: not supported yet'],
    ['an nfs volume', '      containers:', '      volumes: [{ name: data, nfs: { server: x, path: / } }]\n      containers:', 'spec.template.spec.volumes[0].nfs: not supported yet'],
    ['a typo', 'image: busybox', 'imagee: busybox', 'deploy.yaml:17 (document 1, Deployment "web"): spec.template.spec.containers[0].imagee: unknown field (did you mean image?)'],
    ['an unknown top-level field', 'spec:\n  replicas', 'extra: 1\nspec:\n  replicas', 'deploy.yaml:5 (document 1, Deployment "web"): extra: unknown field'],
    ['a namespace', '  name: web\n', '  name: web\n  namespace: kube-system\n', 'metadata.namespace: "kube-system" is not supported: Grove has no namespaces'],
    ['a selector mismatch', 'matchLabels:\n      app: web', 'matchLabels:\n      app: api', 'deploy.yaml:9 (document 1, Deployment "web"): spec.selector.matchLabels: app=api does not match spec.template.metadata.labels'],
    ['an SCTP port', '          resources:', '          ports: [{ containerPort: 80, protocol: SCTP }]\n          resources:', 'spec.template.spec.containers[0].ports[0].protocol: "SCTP" must be TCP or UDP (SCTP is not supported)'],
    ['valueFrom', '          resources:', '          env: [{ name: A, valueFrom: { fieldRef: { fieldPath: x } } }]\n          resources:', 'spec.template.spec.containers[0].env[0].valueFrom.fieldRef: not supported yet'],
    ['a non-string env value', '          resources:', '          env: [{ name: PORT, value: 8080 }]\n          resources:', 'env[0].value: must be a string (got number 8080): quote it'],
    ['the OnDelete strategy on a Deployment', '  replicas: 2', '  replicas: 2\n  strategy: { type: OnDelete }', 'spec.strategy.type: "OnDelete" must be RollingUpdate or Recreate'],
    ['rollingUpdate with Recreate', '  replicas: 2', '  replicas: 2\n  strategy: { type: Recreate, rollingUpdate: { maxSurge: 1 } }', 'spec.strategy.rollingUpdate: only with type: RollingUpdate'],
    ['a percentage over 100%', '  replicas: 2', '  replicas: 2\n  strategy: { rollingUpdate: { maxSurge: 150% } }', 'spec.strategy.rollingUpdate.maxSurge: "150%" must be a whole number or a percentage from 0% to 100%'],
    ['a revisionHistoryLimit over 100', '  replicas: 2', '  replicas: 2\n  revisionHistoryLimit: 300', 'spec.revisionHistoryLimit'],
    ['a bad auto-rollback annotation', '  name: web\n', '  name: web\n  annotations: { grove.io/auto-rollback: "no" }\n', 'metadata.annotations["grove.io/auto-rollback"]: must be "true" or "false", got "no"'],
    ['minReadySeconds', '  replicas: 2', '  replicas: 2\n  minReadySeconds: 5', 'spec.minReadySeconds: not supported yet'],
    ['restartPolicy Never', '      containers:', '      restartPolicy: Never\n      containers:', 'spec.template.spec.restartPolicy: "Never" must be Always'],
    ['a bad app name', 'name: web\nspec', 'name: Web_1\nspec', 'metadata.name: "Web_1" must be a DNS subdomain'],
    ['memory in millibytes', 'memory: 64Mi', 'memory: 64m', '"64m" is 64 millibytes in Kubernetes: write 64Mi for mebibytes'],
    ['a memory limit below 6Mi', 'memory: 64Mi', 'memory: 1Mi', 'limits.memory: "1Mi" is below the minimum of 6Mi'],
    ['a bad cpu', 'memory: 64Mi', 'cpu: lots', 'limits.cpu: "lots" is not a CPU amount'],
    ['a request above the limit', 'memory: 64Mi', 'memory: 64Mi\n            requests:\n              memory: 128Mi', 'requests.memory: "128Mi" must not be more than the limit "64Mi"'],
    ['a missing image', '          image: busybox\n', '', 'deploy.yaml:16 (document 1, Deployment "web"): spec.template.spec.containers[0].image: required field is missing'],
    ['a bad image', 'image: busybox', 'image: BusyBox', 'spec.template.spec.containers[0].image: invalid image reference "BusyBox"'],
    ['a bad label value', 'labels:\n        app: web', 'labels:\n        app: web\n        note: two words', 'spec.template.metadata.labels.note: "two words" must be a label value'],
    ['a bad nodeSelector key', '      containers:', '      nodeSelector: { "a b": c }\n      containers:', 'spec.template.spec.nodeSelector["a b"]: key "a b" must be a label key'],
  ])('rejects %s', (_what, from, to, message) => {
    expect(messageOf(edited(from, to))).toContain(message);
  });

  it('points into List items and checks DaemonSet update strategies', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n  - ${CONFIGMAP.trimEnd().replaceAll('\n', '\n    ')}\n  - apiVersion: apps/v1\n    kind: StatefulSet\n    metadata: { name: nightly }\n`;
    expect(messageOf(list)).toBe('deploy.yaml:9 (document 1, StatefulSet "nightly"): items[1]: kind StatefulSet is not supported yet (supported: Deployment, DaemonSet, Job, CronJob, ConfigMap, Secret)');
    const daemonSet = edited('kind: Deployment', 'kind: DaemonSet').replace('  replicas: 2\n', '');
    expect(() => parseManifests(daemonSet.replace('spec:\n  selector', 'spec:\n  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }\n  selector'), { file: 'd.yaml' }, { validator })).not.toThrow();
    expect(messageOf(daemonSet.replace('spec:\n  selector', 'spec:\n  updateStrategy: { type: Recreate }\n  selector'))).toContain('spec.updateStrategy.type: "Recreate" must be RollingUpdate or OnDelete');
    expect(messageOf(daemonSet.replace('spec:\n  selector', 'spec:\n  replicas: 2\n  selector'))).toContain('spec.replicas: unknown field');
  });

  it('rejects Secret problems without printing the values', () => {
    const secret = (data: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n${data}`;
    expect(messageOf(secret('data:\n  password: hunter2!\n'))).toBe('deploy.yaml:6 (document 1, Secret "db"): data.password: is not valid base64 (put plain text under stringData)');
    expect(messageOf(secret('stringData:\n  pin: 1234\n'))).toBe('deploy.yaml:6 (document 1, Secret "db"): stringData.pin: must be a string (got a number): quote it');
    expect(messageOf(secret('data:\n  raw: //79\n'))).toContain('data.raw: is not UTF-8 text: binary Secret values are not supported yet');
    expect(messageOf(secret('type: kubernetes.io/service-account-token\n'))).toContain('type: "kubernetes.io/service-account-token" must be one of Opaque, kubernetes.io/tls, kubernetes.io/basic-auth, kubernetes.io/dockerconfigjson');
  });

  it('rejects documents that are neither Kubernetes nor compose', () => {
    expect(messageOf('just text\n')).toBe('deploy.yaml:1 (document 1): must be a mapping: a Kubernetes object (apiVersion, kind) or a compose file (services)');
    expect(messageOf('name: x\n')).toContain('is neither a Kubernetes object');
    expect(messageOf('apiVersion: v1\nmetadata: { name: x }\n')).toContain('deploy.yaml:1 (document 1): kind: required field is missing');
  });

  it('rejects a name used twice, naming both documents', () => {
    const text = `${DEPLOYMENT}---\n${CONFIGMAP}---\n${DEPLOYMENT}`;
    expect(messageOf(text)).toBe(
      'deploy.yaml:30 (document 3, Deployment "web"): metadata.name: "web" is also the name of Deployment "web" in document 1: names must be unique',
    );
    // Apps share one namespace whatever their kind or format; ConfigMaps have their own.
    const compose = 'services:\n  web:\n    image: busybox\n';
    expect(messageOf(`${DEPLOYMENT}---\n${compose}`)).toBe(
      'deploy.yaml:23 (document 2, service "web"): services.web: "web" is also the name of Deployment "web" in document 1: names must be unique',
    );
    expect(() => parseManifests(`${CONFIGMAP}---\n${CONFIGMAP.replace('ConfigMap', 'Secret')}`, { file: 'x.yaml' }, { validator })).not.toThrow();
  });

  it('limits the text to 1 MiB and 200 documents', () => {
    expect(messageOf(`# ${'x'.repeat(1024 * 1024)}\n`)).toMatch(/^deploy\.yaml: manifest is larger than 1 MiB/);
    expect(messageOf(`${CONFIGMAP}---\n`.repeat(200) + CONFIGMAP)).toBe('deploy.yaml: too many YAML documents (201, the limit is 200)');
  });

  it('refuses YAML alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(messageOf(bomb.join('\n'))).toMatch(/^deploy\.yaml:\d+: .*alias/i);
  });
});
