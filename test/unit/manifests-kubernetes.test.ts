import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';
import type { App, AppliedResource } from '../../src/core/resolved-pod.js';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8').replaceAll('REGISTRY', 'registry.test:5000');
const validator = createManifestValidator();
const parse = (text: string, file = 'deploy.yaml') => parseManifests(text, { file }, { validator });
const onlyApp = (resources: AppliedResource[]) => {
  expect(resources).toHaveLength(1);
  return resources[0] as App;
};

/** A minimal valid Deployment with `container` merged into its only container. */
function deployment(container: string, spec = '', podSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
${spec}  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
${podSpec}      containers:
        - name: web
          image: busybox
${container}`;
}

describe('Kubernetes manifests', () => {
  it('translates a realistic Deployment, its ConfigMap and its Secret', () => {
    const [app, config, secret] = parse(fixture('deployment-web.yaml'), 'deployment-web.yaml');
    expect(app).toEqual({
      kind: 'App',
      meta: {
        name: 'web',
        labels: { app: 'web', tier: 'frontend' },
        annotations: { 'example.com/owner': 'edge-team' },
        source: { format: 'kubernetes', file: 'deployment-web.yaml', document: 1 },
      },
      spec: {
        kind: 'Deployment',
        replicas: 2,
        template: {
          labels: { app: 'web', tier: 'frontend' },
          annotations: { 'example.com/scrape': 'true' },
          nodeSelector: {},
          restartPolicy: 'Always',
          hostNetwork: false,
          terminationGracePeriodSeconds: 20,
          containers: [
            {
              name: 'httpd',
              image: 'docker.io/library/busybox:1.36',
              command: ['httpd'],
              // $(PORT) is expanded from the container's env, as Kubernetes does.
              args: ['-f', '-p', '8080', '-h', '/www'],
              env: [
                { name: 'PORT', value: '8080' },
                { name: 'GREETING', value: 'hello from 8080' },
              ],
              workingDir: '/www',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              resources: { memoryBytes: 64 * 2 ** 20, cpus: 0.5, requestMemoryBytes: 32 * 2 ** 20, requestCpus: 0.25 },
            },
          ],
        },
      },
    } satisfies App);
    expect(config).toEqual({
      kind: 'ConfigMap',
      meta: { name: 'web-settings', labels: {}, annotations: {}, source: { format: 'kubernetes', file: 'deployment-web.yaml', document: 2 } },
      data: { greeting: 'hello', 'settings.json': '{"debug": false}\n' },
    });
    expect(secret).toMatchObject({ kind: 'Secret', meta: { name: 'web-credentials' }, data: { username: 'admin', password: 's3cr3t' } });
  });

  it('reads the busybox Deployment fixture the end-to-end tests use', () => {
    const app = onlyApp(parse(fixture('deployment-busybox.yaml')));
    expect(app.meta.name).toBe('busybox');
    expect(app.spec).toMatchObject({ kind: 'Deployment', replicas: 3 });
    expect(app.spec.template.containers).toEqual([
      {
        name: 'busybox',
        image: 'registry.test:5000/test/busybox:1',
        command: ['sleep', '3600'],
        env: [],
        resources: { memoryBytes: 32 * 2 ** 20, requestMemoryBytes: 32 * 2 ** 20 },
      },
    ]);
  });

  it('reads a DaemonSet with a nodeSelector (no replicas)', () => {
    const app = onlyApp(parse(fixture('daemonset-labelled.yaml')));
    expect(app.spec.kind).toBe('DaemonSet');
    expect(app.spec.replicas).toBeUndefined();
    expect(app.spec.template.nodeSelector).toEqual({ 'grove.io/role': 'sensor' });
    expect(app.spec.template.containers[0]!.resources).toEqual({
      memoryBytes: 16 * 2 ** 20,
      requestMemoryBytes: 16 * 2 ** 20,
      cpus: 0.1,
      requestCpus: 0.1,
    });
  });

  it('applies the Kubernetes defaults: 1 replica, Always, no host network', () => {
    const app = onlyApp(parse(deployment('')));
    expect(app.spec.replicas).toBe(1);
    expect(app.spec.template).toMatchObject({ restartPolicy: 'Always', hostNetwork: false, nodeSelector: {}, annotations: {} });
    expect(app.spec.template.containers[0]).toEqual({ name: 'web', image: 'docker.io/library/busybox:latest', env: [], resources: {} });
  });

  it('accepts replicas 0, hostNetwork, restartPolicy Always and the default RollingUpdate strategy', () => {
    const spec = '  replicas: 0\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 25%\n';
    const app = onlyApp(parse(deployment('', spec, '      hostNetwork: true\n      restartPolicy: Always\n')));
    expect(app.spec.replicas).toBe(0);
    expect(app.spec.template.hostNetwork).toBe(true);
  });

  it('reads memory the Kubernetes way: M is decimal, Mi binary, plain numbers are bytes', () => {
    const limits = (memory: string) => {
      const app = onlyApp(parse(deployment(`          resources:\n            limits:\n              memory: ${memory}\n`)));
      return app.spec.template.containers[0]!.resources.memoryBytes;
    };
    expect(limits('64M')).toBe(64_000_000);
    expect(limits('64Mi')).toBe(64 * 2 ** 20);
    expect(limits('1Gi')).toBe(2 ** 30);
    expect(limits('1.5G')).toBe(1_500_000_000);
    expect(limits('134217728')).toBe(2 ** 27);
    expect(limits('129e6')).toBe(129_000_000);
  });

  it('expands $(VAR) like Kubernetes: earlier variables only, $$ escapes, unknown ones stay', () => {
    const container = `          env:
            - name: A
              value: one
            - name: B
              value: $(A)-$(C)
            - name: C
              value: three
          command: ["echo", "$(B)", "$$(A)", "$(MISSING)"]
`;
    const c = onlyApp(parse(deployment(container))).spec.template.containers[0]!;
    expect(c.env).toEqual([
      { name: 'A', value: 'one' },
      { name: 'B', value: 'one-$(C)' },
      { name: 'C', value: 'three' },
    ]);
    expect(c.command).toEqual(['echo', 'one-$(C)', '$(A)', '$(MISSING)']);
  });

  it('decodes Secret data, lets stringData win, allows wrapped base64', () => {
    const [secret] = parse(`apiVersion: v1
kind: Secret
metadata:
  name: db
data:
  user: cm9vdA==
  pass: aWdub3Jl
  cert: |
    bGluZSBvbmUK
    bGluZSB0d28=
stringData:
  pass: hunter2
`);
    expect(secret).toMatchObject({ kind: 'Secret', data: { user: 'root', pass: 'hunter2', cert: 'line one\nline two' } });
  });

  it('reads a kind: List', () => {
    const text = `apiVersion: v1
kind: List
metadata: {}
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: { name: a }
    data: { k: v }
  - apiVersion: v1
    kind: ConfigMap
    metadata: { name: b }
`;
    expect(parse(text).map((r) => r.meta.name)).toEqual(['a', 'b']);
  });

  it('accepts what kubectl create --dry-run=client -o yaml writes', () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
`;
    expect(onlyApp(parse(text)).spec.template.containers[0]!.image).toBe('docker.io/library/nginx:latest');
  });

  it('translates update strategies, history, deadline and the auto-rollback annotation', () => {
    const spec = '  revisionHistoryLimit: 3\n  progressDeadlineSeconds: 120\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 50%\n';
    const app = onlyApp(parse(deployment('', spec).replace('  name: web\n', '  name: web\n  annotations:\n    grove.io/auto-rollback: "false"\n')));
    expect(app.spec).toMatchObject({ strategy: { type: 'RollingUpdate', maxSurge: 0, maxUnavailable: '50%' }, revisionHistoryLimit: 3, progressDeadlineSeconds: 120, autoRollback: false });
    expect(onlyApp(parse(deployment('', '  strategy:\n    type: Recreate\n'))).spec.strategy).toEqual({ type: 'Recreate' });
    // The defaults written out store nothing, so such an app hashes and compares as before.
    expect(onlyApp(parse(deployment('', '  strategy:\n    type: RollingUpdate\n'))).spec.strategy).toBeUndefined();
    const ds = deployment('', '  updateStrategy:\n    type: OnDelete\n').replace('kind: Deployment', 'kind: DaemonSet');
    expect(onlyApp(parse(ds)).spec).toMatchObject({ kind: 'DaemonSet', strategy: { type: 'OnDelete' } });
  });

  it('skips empty documents but counts them in document numbers', () => {
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;
    const resources = parse(`---\n${cm('a')}---\n# nothing here\n---\n---\n${cm('b')}`);
    expect(resources.map((r) => [r.meta.name, r.meta.source?.document])).toEqual([
      ['a', 1],
      ['b', 4],
    ]);
  });

  it('resolves YAML anchors and merge keys', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: merged
  labels: &common { team: edge }
  annotations:
    <<: *common
    extra: "yes"
`;
    expect(parse(text)[0]!.meta).toMatchObject({ labels: { team: 'edge' }, annotations: { team: 'edge', extra: 'yes' } });
  });
});

describe('Kubernetes probes', () => {
  it('translates the three probes with Kubernetes defaults filled in', () => {
    const text = deployment(`          livenessProbe:
            exec: { command: [test, -f, /tmp/healthy] }
          readinessProbe:
            httpGet: { path: /ready, port: 8080, scheme: HTTP, httpHeaders: [{ name: X-Probe, value: "1" }] }
            periodSeconds: 5
            successThreshold: 2
          startupProbe:
            tcpSocket: { port: 5432, host: 127.0.0.1 }
            initialDelaySeconds: 3
            failureThreshold: 30
            timeoutSeconds: 2
`);
    const app = onlyApp(parse(text));
    const defaults = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 };
    expect(app.spec.template.containers[0]!.probes).toEqual({
      liveness: { exec: { command: ['test', '-f', '/tmp/healthy'] }, ...defaults },
      readiness: { httpGet: { path: '/ready', port: 8080, httpHeaders: [{ name: 'X-Probe', value: '1' }] }, ...defaults, periodSeconds: 5, successThreshold: 2 },
      startup: { tcpSocket: { port: 5432, host: '127.0.0.1' }, ...defaults, initialDelaySeconds: 3, failureThreshold: 30, timeoutSeconds: 2 },
    });
  });

  it('defaults an httpGet path to / and leaves containers without probes as they were', () => {
    const app = onlyApp(parse(deployment('          readinessProbe: { httpGet: { port: 80 } }\n')));
    expect(app.spec.template.containers[0]!.probes!.readiness).toMatchObject({ httpGet: { path: '/', port: 80 } });
    expect('probes' in onlyApp(parse(deployment(''))).spec.template.containers[0]!).toBe(false);
  });
});
