import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestsToObjects, type ManifestFile } from '../../src/core/manifests/manifest-objects.js';
import { problemsError } from '../../src/core/manifests/problems.js';
import { ErrorCode } from '../../src/core/errors.js';

const FIXTURES = new URL('../fixtures/manifests/objects/', import.meta.url);
const file = (name: string, dir = '/srv/stack'): ManifestFile => ({ path: name, text: readFileSync(new URL(name, FIXTURES), 'utf8'), dir });

function objectsOf(...files: ManifestFile[]) {
  const r = manifestsToObjects(files);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const linesOf = (...files: ManifestFile[]) => manifestsToObjects(files).problems.map((p) => p.text);
const text = (path: string, body: string, dir?: string): ManifestFile => ({ path, text: body, ...(dir ? { dir } : {}) });
/* eslint-disable @typescript-eslint/no-explicit-any */
const find = (objects: readonly any[], kind: string, name: string): any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  expect(o, `${kind} ${name}`).toBeDefined();
  return o;
};

describe('Kubernetes manifests → objects', () => {
  it('keeps the objects as written: namespaces, probes, resources, volumes', () => {
    const objects = objectsOf(file('homelab.yaml'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/homelab', 'Deployment/jellyfin', 'ConfigMap/proxy-config', 'Deployment/proxy']);
    const jellyfin = find(objects, 'Deployment', 'jellyfin');
    expect(jellyfin.metadata.namespace).toBe('homelab');
    const c = jellyfin.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { memory: '512Mi', cpu: '500m' }, limits: { memory: '2Gi', cpu: '2' } });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/health', port: 8096 }, periodSeconds: 10 });
    // No defaults filled in by the client: the server's validator does that.
    expect(jellyfin.spec.revisionHistoryLimit).toBeUndefined();
    expect(c.imagePullPolicy).toBeUndefined();
    // Without a namespace the object has none: the server puts it in "default".
    expect(find(objectsOf(file('app-config.yaml')), 'Deployment', 'grafana').metadata.namespace).toBeUndefined();
  });

  it('takes a DaemonSet with host devices, a node selector and the host network', () => {
    const [ds] = objectsOf(file('iot-daemonset.yaml')) as any[];
    expect(ds.kind).toBe('DaemonSet');
    expect(ds.spec.template.metadata.annotations['grove.io/devices']).toBe('/dev/i2c-1,/dev/gpiomem:/dev/gpiomem:rw');
    expect(ds.spec.template.spec.nodeSelector).toEqual({ 'hardware/i2c': 'true' });
    expect(ds.spec.template.spec.containers[0].resources.limits['grove.io/pids']).toBe('64');
  });

  it('folds a Secret\'s stringData into data (base64), stringData winning, as the API server does', () => {
    const secret = find(objectsOf(file('app-config.yaml')), 'Secret', 'grafana-admin');
    expect(secret.stringData).toBeUndefined();
    expect(secret.data).toEqual({ 'admin-user': 'YWRtaW4=', 'admin-password': Buffer.from('s3cret!').toString('base64') });
    const both = objectsOf(text('s.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: YQ==}\nstringData: {k: b}\n'));
    expect((both[0] as any).data).toEqual({ k: 'Yg==' });
  });

  it('writes out a CronJob schedule macro for the node and checks time zones', () => {
    const cron = find(objectsOf(file('backup-cronjob.yaml')), 'CronJob', 'backup');
    expect(cron.spec.schedule).toBe('0 0 * * *');
    expect(cron.spec.timeZone).toBe('Europe/Berlin');
    const bad = readFileSync(new URL('backup-cronjob.yaml', FIXTURES), 'utf8').replace('"@daily"', '"61 * * * *"').replace('Europe/Berlin', 'Mars/Olympus');
    expect(linesOf(text('b.yaml', bad))).toEqual([
      'b.yaml:16 (document 2, CronJob "backup"): spec.schedule: "61 * * * *" is not a cron expression (5 fields, or 6 with seconds first)',
      'b.yaml:17 (document 2, CronJob "backup"): spec.timeZone: "Mars/Olympus" is not a known time zone (e.g. Europe/Berlin, UTC)',
    ]);
  });

  it('takes a v1 List and the typed Lists `get -o yaml` prints, whose items may leave out apiVersion and kind', () => {
    expect(objectsOf(file('list.yaml')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Pod/debug', 'Job/db-migrate']);
    const typed = 'apiVersion: v1\nkind: ConfigMapList\nmetadata: {resourceVersion: "12"}\nitems:\n  - metadata: {name: a}\n  - metadata: {name: b}\n    data: {x: "1"}\n';
    expect(objectsOf(text('l.yaml', typed))).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { x: '1' } },
    ]);
    expect(linesOf(text('l.yaml', 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n    items: []\n'))).toEqual([
      'l.yaml:5 (document 1, List): items[0].kind: a List inside a List is not supported',
    ]);
  });

  it('reports every problem of every file in one run, each on one line', () => {
    expect(linesOf(file('bad/many-problems.yaml'), text('second.yaml', 'apiVersion: v1\nkind: Node\nmetadata: {name: pi-1}\n---\nkind: ConfigMap\n'))).toEqual([
      'bad/many-problems.yaml:6 (document 1, Deployment "web"): spec.replicas: must be an integer (got string "three")',
      'bad/many-problems.yaml:9 (document 1, Deployment "web"): spec.selector.matchLabels: app=web does not match spec.template.metadata.labels (the selector must select the template\'s labels)',
      'bad/many-problems.yaml:17 (document 1, Deployment "web"): spec.template.spec.containers[0].imagee: unknown field (did you mean image?)',
      'bad/many-problems.yaml:20 (document 1, Deployment "web"): spec.template.spec.containers[0].resources.limits.memory: "64Mq" is not a size (use e.g. 64Mi, 1Gi or 500M)',
      'bad/many-problems.yaml:22 (document 1, Deployment "web"): spec.template.spec.containers[0].livenessProbe: needs one of exec, httpGet, tcpSocket, grpc',
      'bad/many-problems.yaml:24 (document 2, Service "web"): spec.ports: Required value: a Service needs at least one port (only a headless Service, clusterIP: None, may have none)',
      'bad/many-problems.yaml:34 (document 3, Secret "db"): data.password: is not valid base64 (put plain text under stringData)',
      'second.yaml:2 (document 1, Node "pi-1"): kind Node cannot be applied: Node objects are made when a node joins (grove agent --join): label or cordon them with grove node (supported: Namespace, ConfigMap, Secret, Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, EndpointSlice, Ingress, IngressClass, PersistentVolumeClaim, PersistentVolume, StorageClass, ServiceAccount)',
      'second.yaml:5 (document 2, ConfigMap): apiVersion: required field is missing (ConfigMap is v1)',
    ]);
  });

  it.each([
    ['a value YAML reads as a number', 'env: [{ name: PORT, value: 8080 }]', 'spec.template.spec.containers[0].env[0].value: must be a string (got number 8080): quote it'],
    ['a named port', 'ports: [{ containerPort: http }]', 'ports[0].containerPort: "http" must be a port number 1-65535'],
    ['two probe handlers', 'readinessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } }', 'readinessProbe: has exec and tcpSocket: only one of exec, httpGet, tcpSocket, grpc is allowed'],
    ['a rejected field', 'readinessProbe: { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 5 }', 'readinessProbe.terminationGracePeriodSeconds: not supported yet'],
    ['liveness successThreshold 2', 'livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 }', 'livenessProbe.successThreshold: 2 must be 1 for liveness and startup probes'],
    ['memory in millibytes', 'resources: { limits: { memory: 64m } }', '"64m" is 64 millibytes in Kubernetes: write 64Mi for mebibytes'],
    ['a request above its limit', 'resources: { limits: { memory: 64Mi }, requests: { memory: 128Mi } }', 'resources.requests.memory: "128Mi" must not be more than the limit "64Mi"'],
    ['a bad image', 'securityContext: { privileged: true }\n          image: BusyBox', 'containers[0].image: invalid image reference "BusyBox"'],
    ['procMount', 'securityContext: { procMount: Unmasked }', 'securityContext.procMount: not supported yet'],
    ['a mount of no volume', 'volumeMounts: [{ name: data, mountPath: /data }]', 'volumeMounts[0].name: no volume named "data" in this pod\'s volumes'],
    ['a memory limit of the wrong type', 'resources: { limits: { memory: true } }', 'resources.limits.memory: must be a size such as 64Mi, 1Gi or 500M (got boolean true)'],
    ['a misspelt enum value', 'imagePullPolicy: Allways', 'imagePullPolicy: "Allways" must be one of "Always", "IfNotPresent", "Never" (did you mean Always?)'],
  ])('words %s as today', (_what, field, message) => {
    const doc = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          ${field}\n`;
    const lines = linesOf(text('d.yaml', doc.replace('          image: nginx:1.27\n          securityContext: { privileged: true }\n          image: BusyBox', '          securityContext: { privileged: true }\n          image: BusyBox')));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/^d\.yaml:\d+ \(document 1, Deployment "web"\): /);
  });

  it('suggests the kind a typo meant', () => {
    expect(linesOf(text('k.yaml', 'apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n'))).toEqual([
      'k.yaml:2 (document 1, Deploymnet "web"): kind Deploymnet is not a kind Grove knows (did you mean Deployment?) (supported: Namespace, ConfigMap, Secret, Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, EndpointSlice, Ingress, IngressClass, PersistentVolumeClaim, PersistentVolume, StorageClass, ServiceAccount)',
    ]);
  });

  it('goes on after a document that is not YAML', () => {
    const body = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: [}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: B}\n';
    const lines = linesOf(text('y.yaml', body));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^y\.yaml:4: /);
    expect(lines[1]).toBe('y.yaml:8 (document 2, ConfigMap "B"): metadata.name: "B" must be a DNS subdomain: lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit');
  });

  it('refuses one name twice, naming both places; workloads share names as 0.1 apps did', () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
    expect(linesOf(text('a.yaml', cm), text('b.yaml', `${cm}---\n${cm.replace('name: a', 'name: a, namespace: other')}`))).toEqual([
      'b.yaml:3 (document 1, ConfigMap "a"): metadata.name: "a" is also the name of ConfigMap "a" in a.yaml (document 1): names must be unique',
    ]);
    // The compose project "stack" (its directory) lives in namespace stack: a Job there clashes, one in default does not.
    const list = readFileSync(new URL('list.yaml', FIXTURES), 'utf8');
    expect(linesOf(text('l.yaml', list.replace('name: db-migrate', 'name: migrate')), file('compose-oneshot.yaml'))).toEqual([]);
    const job = list.replace('name: db-migrate', 'name: migrate\n      namespace: stack');
    expect(linesOf(text('l.yaml', job), file('compose-oneshot.yaml'))).toEqual([
      'compose-oneshot.yaml:3 (document 1, service "migrate"): services.migrate: "migrate" is also the name of Job "migrate" in l.yaml (document 1): names must be unique',
    ]);
  });

  it('hides Secret values in every message', () => {
    const lines = linesOf(text('s.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {pin: 1234}\ndata: {x: "not base64!"}\n'));
    expect(lines).toEqual([
      's.yaml:4 (document 1, Secret "s"): stringData.pin: must be a string (got a number): quote it',
      's.yaml:5 (document 1, Secret "s"): data.x: is not valid base64 (put plain text under stringData)',
    ]);
    expect(lines.join('\n')).not.toContain('1234');
  });

  it('makes one ManifestInvalid error of all problems, one line each', () => {
    const problems = manifestsToObjects([file('bad/many-problems.yaml')]).problems;
    const err = problemsError(problems);
    expect(err.code).toBe(ErrorCode.ManifestInvalid);
    expect(err.message.split('\n')).toHaveLength(problems.length);
    expect((err.details as { problems: unknown[] }).problems).toHaveLength(problems.length);
  });
});

describe('compose files → objects', () => {
  it('makes a Deployment per restarting service, with the compose labels as selector', () => {
    const objects = objectsOf(file('compose-stack.yaml', '/srv/automation'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/automation',
      'Deployment/mosquitto',
      'Service/mosquitto',
      'Deployment/db',
      'Service/db',
      'Deployment/app',
      'Service/app',
    ]);
    const app = find(objects, 'Deployment', 'app');
    const selector = { 'com.docker.compose.project': 'automation', 'com.docker.compose.service': 'app' };
    expect(app.metadata).toEqual({ name: 'app', namespace: 'automation', labels: selector, annotations: { 'grove.io/auto-rollback': 'true' } });
    expect(app.spec.selector).toEqual({ matchLabels: selector });
    expect(app.spec.template.metadata).toEqual({
      labels: selector,
      annotations: { 'grove.io/depends-on': 'db:healthy,mosquitto:started', 'grove.io/devices': '/dev/ttyUSB0:/dev/ttyUSB0', 'grove.io/group-add': 'dialout' },
    });
    expect(app.spec).toMatchObject({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, progressDeadlineSeconds: 120 });
    const pod = app.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 20, securityContext: { supplementalGroups: [20] } });
    expect(pod.containers[0]).toMatchObject({ name: 'app', image: 'ghcr.io/example/home-app:3.1', resources: { limits: { cpu: '500m' } }, env: [{ name: 'DATABASE_URL', value: 'postgres://postgres:example@db/postgres' }] });
  });

  it('maps volumes, ports, memory and healthchecks to Kubernetes fields', () => {
    const objects = objectsOf(file('compose-stack.yaml', '/srv/automation'));
    const broker = find(objects, 'Deployment', 'mosquitto').spec.template.spec;
    expect(broker.volumes).toEqual([
      { name: 'bind-0', hostPath: { path: '/srv/automation/mosquitto.conf', type: 'ComposeBind' } },
      { name: 'broker-data', persistentVolumeClaim: { claimName: 'broker-data' } },
    ]);
    expect(broker.containers[0].volumeMounts).toEqual([{ name: 'bind-0', mountPath: '/mosquitto/config/mosquitto.conf', readOnly: true }, { name: 'broker-data', mountPath: '/mosquitto/data' }]);
    expect(broker.containers[0].ports).toEqual([{ containerPort: 1883, hostPort: 1883, protocol: 'TCP' }]);
    expect(broker.containers[0].readinessProbe.exec.command).toEqual(['mosquitto_sub', '-t', '$SYS/#', '-C', '1', '-W', '3']);
    const db = find(objects, 'Deployment', 'db').spec.template.spec.containers[0];
    expect(db.resources).toEqual({ limits: { memory: '256Mi' } });
    // restart: always → liveness too, and a startup probe for start_period (30s / 10s + 3 retries).
    expect(db.startupProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 6 });
    expect(db.livenessProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 3, successThreshold: 1 });
  });

  it('makes a Job of a service that is not restarted (compose\'s default), named after its directory\'s project', () => {
    const objects = objectsOf(file('compose-oneshot.yaml', '/home/pi/My Shop'));
    const job = find(objects, 'Job', 'migrate');
    expect(job.metadata.labels).toEqual({ 'com.docker.compose.project': 'myshop', 'com.docker.compose.service': 'migrate' });
    expect(job.spec).toMatchObject({ backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ args: ['shop', 'migrate'] }] } } });
    const web = find(objects, 'Deployment', 'web');
    expect(web.spec.template.metadata.annotations).toEqual({ 'grove.io/depends-on': 'migrate:completed' });
    expect(web.spec.template.spec.hostNetwork).toBe(true);
    expect(find(objectsOf(text('stdin', 'services:\n  a:\n    image: busybox\n    restart: on-failure\n')), 'Job', 'a').spec).toMatchObject({ backoffLimit: 1000, template: { spec: { restartPolicy: 'OnFailure' } } });
  });

  it('keeps $( literal, as compose does (Kubernetes would expand it)', () => {
    const c = find(objectsOf(text('c.yaml', 'services:\n  a:\n    image: busybox\n    restart: always\n    command: echo "$$(date)"\n    environment: {X: "$$(y)"}\n')), 'Deployment', 'a').spec.template.spec.containers[0];
    expect(c.args).toEqual(['echo', '$$(date)']);
    expect(c.env).toEqual([{ name: 'X', value: '$$(y)' }]);
  });

  it('reports every field problem of a service at once', () => {
    const body = 'services:\n  web:\n    image: nginx:1.27\n    restart: always\n    mem_limit: lots\n    stop_grace_period: 2h\n    devices: ["dev/ttyUSB0"]\n    volumes: ["data:/data"]\n    environment: ["=x"]\n';
    expect(linesOf(text('c.yaml', body))).toEqual([
      'c.yaml:5 (document 1, service "web"): services.web.mem_limit: "lots" is not a size (use e.g. 512k, 32m, 1g, 64Mi)',
      'c.yaml:6 (document 1, service "web"): services.web.stop_grace_period: "2h" must be at most 1h',
      'c.yaml:7 (document 1, service "web"): services.web.devices[0]: host path "dev/ttyUSB0" must be under /dev/',
      'c.yaml:8 (document 1, service "web"): services.web.volumes[0]: volume "data" is not declared under the top-level volumes: (as compose requires)',
      'c.yaml:9 (document 1, service "web"): services.web.environment[0]: "=x" has no variable name',
    ]);
  });

  it('says what the object checks find at the compose field it came from', () => {
    const body = 'services:\n  a:\n    image: busybox\n    restart: always\n    working_dir: app\n';
    expect(linesOf(text('c.yaml', body))).toEqual([
      'c.yaml:5 (document 1, service "a"): services.a.working_dir: "app" must be an absolute path (spec.template.spec.containers[0].workingDir of Deployment "a")',
    ]);
  });

  it('checks the file around the services, and start-order cycles', () => {
    expect(linesOf(text('c.yaml', 'services: [a]\n'))).toEqual(['c.yaml:1 (document 1, compose file): services: must be a mapping (got a list)']);
    expect(linesOf(text('c.yaml', 'version: 3\nservices:\n  a:\n    image: x\n    restart: always\ninclude: []\nfoo: 1\n'))).toEqual([
      'c.yaml:6 (document 1, compose file): include: not supported yet',
      'c.yaml:7 (document 1, compose file): foo: unknown field',
    ]);
    const cycle = 'services:\n  a:\n    image: x\n    restart: always\n    depends_on: [b]\n  b:\n    image: x\n    restart: always\n    depends_on: [a]\n';
    expect(linesOf(text('c.yaml', cycle))).toEqual(['c.yaml:5 (document 1, service "a"): services.a.depends_on: forms a cycle: a → b → a']);
  });

  it('reports the problems of each service in one run', () => {
    expect(linesOf(file('bad/compose-problems.yaml'))).toEqual([
      'bad/compose-problems.yaml:6 (document 1, service "web"): services.web.build: not supported: build the image, push it to a registry and set image:',
      'bad/compose-problems.yaml:10 (document 1, service "worker"): services.worker.depends_on[0]: "queue" is not a service of this file',
      'bad/compose-problems.yaml:14 (document 1, service "cron"): services.cron.deploy.mode: global needs restart: always or unless-stopped (a service that is not restarted becomes a Job; compose\'s default is restart: "no")',
    ]);
    expect(linesOf(text('c.yaml', 'services:\n  -web:\n    image: busybox\n  db:\n    image: Postgres\n    restart: always\n    mem_limit: 2m\n'))).toEqual([
      'c.yaml:2 (document 1, service "-web"): services["-web"]: service name "-web" must be at most 63 letters, digits, \'_\', \'.\' and \'-\', starting with a letter or digit',
      'c.yaml:5 (document 1, service "db"): services.db.image: invalid image reference "Postgres": repository component "Postgres" must be lowercase letters, digits and separators',
      'c.yaml:7 (document 1, service "db"): services.db.mem_limit: "2m" is below the minimum of 6m',
    ]);
  });
});
