/**
 * The acceptance for the client: for every kind a user applies (and the objects the
 * controllers make of them), `grove get KIND NAME -o yaml > x.yaml && grove apply -f x.yaml`
 * reports `unchanged` — against a real `grove server` process, through the built `grove` CLI.
 * Node and ControllerRevision are made by the server only (apply refuses them by name).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runGrove, type GroveResult } from '../support/grove-cli.js';
import { LoggedServer } from '../support/logged-server.js';

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop, labels: {tier: front}}
data: {mode: edge, empty: ""}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: s3cret}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, annotations: {kubernetes.io/change-cause: first}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 80}]
          resources: {limits: {memory: 64Mi, cpu: 500m}}
          env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: busybox:1.36, command: [sleep, "3600"]}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: backup, namespace: shop}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: backup, image: busybox:1.36, command: ["true"]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: OnFailure, containers: [{name: nightly, image: busybox:1.36}]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: shop}
spec: {containers: [{name: solo, image: busybox:1.36}]}
`;

describe('grove get -o yaml | grove apply: unchanged for every kind', () => {
  let dir: string;
  let server: LoggedServer;
  const grove = (...args: string[]): Promise<GroveResult> => runGrove(['--data-dir', join(dir, 'data'), ...args]);

  /** get TYPE NAME -o yaml, then apply that file: the apply's one line. */
  async function roundTrip(type: string, name: string, namespace = 'shop'): Promise<string> {
    // A Secret prints its data only when asked (docs/security.md); without it, each key's size.
    const got = await grove('get', type, name, '-n', namespace, '-o', 'yaml', ...(type === 'secret' ? ['--show-values'] : []));
    expect(got.code, got.stderr).toBe(0);
    const file = join(dir, `${type}-${name}.yaml`);
    await writeFile(file, got.stdout);
    const applied = await grove('apply', '-f', file);
    expect(applied.code, applied.stderr).toBe(0);
    return applied.stdout.trim();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-roundtrip-'));
    server = await LoggedServer.create(join(dir, 'data'), join(dir, 'server.log'));
    await server.start();
    const file = join(dir, 'stack.yaml');
    await writeFile(file, MANIFESTS);
    const applied = await grove('apply', '-f', file);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toEqual([
      'namespace/shop created',
      'configmap/settings created',
      'secret/db created',
      'deployment.apps/web created',
      'daemonset.apps/agent created',
      'job.batch/backup created',
      'cronjob.batch/nightly created',
      'pod/solo created',
    ]);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('re-applying the same files changes nothing', async () => {
    const again = await grove('apply', '-f', join(dir, 'stack.yaml'));
    expect(again.stdout.trim().split('\n').every((l) => l.endsWith(' unchanged')), again.stdout).toBe(true);
  });

  it('a Secret without --show-values prints sizes, not values: it does not apply back', async () => {
    const hidden = await grove('get', 'secret', 'db', '-n', 'shop', '-o', 'yaml');
    expect(hidden.stdout).toMatch(/^ {2}password: 6$/m);
    expect(hidden.stdout).not.toContain(Buffer.from('s3cret').toString('base64'));
  });

  it.each([
    ['namespace', 'shop', 'namespace/shop unchanged'],
    ['configmap', 'settings', 'configmap/settings unchanged'],
    ['secret', 'db', 'secret/db unchanged'],
    ['deployment', 'web', 'deployment.apps/web unchanged'],
    ['daemonset', 'agent', 'daemonset.apps/agent unchanged'],
    ['job', 'backup', 'job.batch/backup unchanged'],
    ['cronjob', 'nightly', 'cronjob.batch/nightly unchanged'],
    ['pod', 'solo', 'pod/solo unchanged'],
  ])('%s %s', async (type, name, line) => {
    expect(await roundTrip(type, name, type === 'namespace' ? 'default' : 'shop')).toBe(line);
  });

  it('the objects the controllers make (a ReplicaSet and a Pod of the Deployment, a Job\'s Pod) apply back unchanged', async () => {
    const names = async (type: string, selector: string): Promise<string[] | undefined> => {
      const r = await grove('get', type, '-n', 'shop', '-l', selector, '-o', 'name');
      const list = r.stdout.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf('/') + 1));
      return list.length > 0 ? list : undefined;
    };
    const [rs] = await eventually(() => names('replicasets', 'app=web'), 30_000, 'the ReplicaSet of web');
    expect(await roundTrip('replicaset', rs!)).toBe(`replicaset.apps/${rs} unchanged`);
    const [pod] = await eventually(() => names('pods', 'app=web'), 30_000, 'a pod of web');
    expect(await roundTrip('pod', pod!)).toBe(`pod/${pod} unchanged`);
    const [jobPod] = await eventually(() => names('pods', 'job-name=backup'), 30_000, 'the pod of job backup');
    expect(await roundTrip('pod', jobPod!)).toBe(`pod/${jobPod} unchanged`);
  }, 120_000);
});
