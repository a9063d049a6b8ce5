/**
 * The 0.1 → objects migration over a REAL Grove 0.1 store: test/fixtures/migrate/0.1-store.backup
 * is `grove server backup` of a 0.1 server (commit abd5294) with two hollow nodes, a Deployment
 * updated once, a DaemonSet, a CronJob, a Job, a compose project and a Pending pod
 * (make-fixture.mjs writes it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GroveKeys, LEGACY_KEYS, parseObjectKey } from '../../src/core/keys.js';
import { ALL_KINDS } from '../../src/core/objects/kinds.js';
import { validate, type KindObject } from '../../src/core/objects/validate.js';
import { isSealed } from '../../src/core/seal.js';
import { decodeBackup } from '../../src/store/backup.js';
import { openSealedValue, sealStoreValue } from '../../src/server/sealed-store.js';
import { migrateLegacy, type LegacyEntry, type MigrationContext } from '../../src/server/migrate/migrate-legacy.js';
import { bytesQuantity, cpuQuantity, podTemplateSpec } from '../../src/server/migrate/pod-template.js';
import { expandK8sVars } from '../../src/core/manifests/k8s-expand.js';
import { planUpgrade } from '../../src/server/migrate/upgrade-store.js';
import { nodeWithFacts } from '../../src/server/objects/node-object.js';
import { admitObject } from '../../src/server/objects/admit.js';
import { defaultPodSpec } from '../../src/core/objects/defaults.js';
import { runsSpec } from '../../src/server/controllers/job.js';
import { REPO_ROOT } from '../support/grove-cli.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'migrate');
const backup = decodeBackup(readFileSync(join(FIXTURES, '0.1-store.backup')));
const secretKey = readFileSync(join(FIXTURES, '0.1-secrets.key'));

function context(): MigrationContext {
  let n = 0;
  return { now: new Date('2030-01-02T03:04:05.000Z'), newUid: () => `uid-${++n}` };
}

/** The fixture's entries with sealed values opened, as the start hook hands them over. */
function openedEntries(): LegacyEntry[] {
  return backup.entries.map((e) => ({
    key: e.key,
    value: (e.key.startsWith(LEGACY_KEYS.secretPrefix) || e.key.startsWith(LEGACY_KEYS.nodeKeyPrefix)) && isSealed(e.value) ? openSealedValue(secretKey, e.key, e.value) : e.value,
  }));
}

const plan = migrateLegacy(openedEntries(), context());
const put = new Map(plan.puts.map((p) => [p.key, p.value]));
const get = <K extends keyof typeof kinds>(kind: K, key: string) => put.get(key) as KindObject<K>;
const kinds = { Deployment: 1, ReplicaSet: 1, DaemonSet: 1, ControllerRevision: 1, Job: 1, CronJob: 1, Pod: 1, Node: 1, Secret: 1, ConfigMap: 1, Namespace: 1 } as const;

describe('migrateLegacy on a real 0.1 store', () => {
  it('carries over every record, with no problems, into the object layout', () => {
    expect(plan.problems).toEqual([]);
    expect(plan.counts).toEqual({
      deployments: 3, replicasets: 4, daemonsets: 1, controllerrevisions: 1, jobs: 3, cronjobs: 1, pods: 10, namespaces: 1,
      nodes: 2, nodecreds: 2, configmaps: 1, secrets: 1, tokens: 2, targets: 2, nodekeys: 2, configs: 2, cluster: 1,
    });
    // Jobs keep no revision history (the Job's template is it).
    expect(plan.dropped.map((d) => d.key).sort()).toEqual([
      'revisions/db/0775abfe8bd13d45', 'revisions/init-schema/11e362d099f31001', 'revisions/migrate-db/73f8018ae1a701dd', 'revisions/nightly-backup/a14c18bcef9a66de',
    ]);
    // Every legacy key goes, except the node keys the new layout reuses for Node objects.
    const legacyKeys = backup.entries.map((e) => e.key);
    expect(plan.deletes.sort()).toEqual(legacyKeys.filter((k) => !k.startsWith('nodes/')).sort());
    for (const key of put.keys()) expect(key.startsWith('grove/') || parseObjectKey(key, ALL_KINDS) !== undefined, key).toBe(true);
    // As the object store writes them: every object has a generation (else re-applying the same ConfigMap writes).
    for (const [key, value] of put) if (!key.startsWith('grove/')) expect((value as { metadata: { generation?: number } }).metadata.generation, key).toBeGreaterThanOrEqual(1);
    expect(put.get(GroveKeys.schemaVersion)).toEqual({ version: 2, migratedFrom: '0.1', migratedAt: '2030-01-02T03:04:05.000Z' });
    expect(put.get(GroveKeys.cluster)).toEqual({ name: 'default' });
    // Every object is valid for its kind (the plan holds the defaulted copies).
    for (const [key, value] of put) {
      const parsed = parseObjectKey(key, ALL_KINDS);
      if (parsed) expect(validate((value as { kind: 'Pod' }).kind, value).ok, key).toBe(true);
    }
  });

  it('is deterministic for the same uid source and time', () => {
    expect(migrateLegacy(openedEntries(), context())).toEqual(plan);
  });

  it('makes the Deployment, one ReplicaSet per revision with the 0.1 hash, and its pods with the same names', () => {
    const web = get('Deployment', 'deployments/default/web');
    expect(web.metadata).toMatchObject({ namespace: 'default', generation: 2, labels: { tier: 'frontend' }, annotations: { 'kubernetes.io/change-cause': 'deploy 1.27', 'deployment.kubernetes.io/revision': '2' } });
    expect(web.spec).toMatchObject({ replicas: 2, revisionHistoryLimit: 5, selector: { matchLabels: { app: 'web', tier: 'frontend' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    expect(web.status?.conditions?.[0]).toMatchObject({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' });
    const nginx = web.spec.template.spec.containers[0]!;
    expect(nginx).toMatchObject({
      image: 'docker.io/library/nginx:1.27',
      args: ['-g', 'daemon off;'],
      resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '32Mi' } },
      ports: [{ containerPort: 8080, hostPort: 18080, name: 'http', protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 8080 } },
      envFrom: [{ secretRef: { name: 'web-secret' }, prefix: 'SECRET_' }],
    });
    expect(nginx.env).toEqual([
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'mode' } } },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'password' } } },
      { name: 'GREETING', value: 'hello' },
    ]);
    expect(web.spec.template.spec.volumes).toContainEqual({ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });

    const current = get('ReplicaSet', 'replicasets/default/web-8edb989c8b0c24e8');
    const old = get('ReplicaSet', 'replicasets/default/web-9123cd4dfc3ca43e');
    expect(current.metadata).toMatchObject({ labels: { 'pod-template-hash': '8edb989c8b0c24e8' }, annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'deploy 1.27' } });
    expect(current.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: web.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(current.spec.replicas).toBe(2);
    expect(old.spec.replicas).toBe(0);
    expect(old.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(old.spec.template.spec.containers[0]!.image).toBe('docker.io/library/nginx:1.25');
    // The Deployment finds its current ReplicaSet by template: equal but for the hash label.
    const { 'pod-template-hash': hash, ...rsLabels } = current.spec.template.metadata!.labels!;
    expect(hash).toBe('8edb989c8b0c24e8');
    expect({ ...current.spec.template, metadata: { ...current.spec.template.metadata, labels: rsLabels } }).toEqual(web.spec.template);

    for (const name of ['web-8edb98-ottgs', 'web-8edb98-q3y52']) {
      const pod = get('Pod', `pods/default/${name}`);
      expect(pod.metadata.labels).toEqual({ app: 'web', tier: 'frontend', 'pod-template-hash': '8edb989c8b0c24e8' });
      expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'web-8edb989c8b0c24e8', uid: current.metadata.uid });
      // The template's containers as a Pod stores them (requests defaulted from limits).
      expect(pod.spec.containers).toEqual(defaultPodSpec(web.spec.template.spec, 'pod').containers);
      expect(pod.status).toBeUndefined();
    }
    expect(get('Pod', 'pods/default/web-8edb98-ottgs').spec.nodeName).toBe('hollow-0');
    expect(get('Pod', 'pods/default/web-8edb98-q3y52').spec.nodeName).toBe('hollow-1');
  });

  it('keeps a Pending pod unbound with 0.1 FailedScheduling text as its PodScheduled condition', () => {
    const pod = get('Pod', 'pods/default/gpu-worker-5cc565-kc4hg');
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.conditions?.[0]).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
    expect(pod.status?.conditions?.[0]?.message).toMatch(/^0\/2 nodes are available: /);
  });

  it('makes the DaemonSet with ControllerRevisions and pods labelled controller-revision-hash', () => {
    const ds = get('DaemonSet', 'daemonsets/default/sensor-reader');
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.template.metadata?.annotations).toEqual({ 'grove.io/devices': '/dev/null:/dev/sensor:rw' });
    expect(ds.spec.template.spec).toMatchObject({ hostNetwork: true, nodeSelector: { 'node.grove.io/hollow': 'true' }, securityContext: { supplementalGroups: [20] } });
    expect(ds.spec.template.spec.containers[0]).toMatchObject({ securityContext: { seccompProfile: { type: 'Unconfined' } }, resources: { limits: { memory: '16Mi', cpu: '100m' } } });
    const cr = get('ControllerRevision', 'controllerrevisions/default/sensor-reader-84651e1ceae9df1f');
    expect(cr.revision).toBe(1);
    expect(cr.data?.spec.template).toEqual(ds.spec.template);
    expect(cr.metadata.ownerReferences?.[0]?.uid).toBe(ds.metadata.uid);
    const pod = get('Pod', 'pods/default/sensor-reader-84651e-w0hvd');
    expect(pod.metadata.labels?.['controller-revision-hash']).toBe('84651e1ceae9df1f');
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', uid: ds.metadata.uid });
  });

  it('makes Jobs and CronJobs with their settings, Job pods labelled as Kubernetes labels them', () => {
    const job = get('Job', 'jobs/default/migrate-db');
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, ttlSecondsAfterFinished: 3600 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const pod = get('Pod', 'pods/default/migrate-db-73f801-ahc4n');
    expect(pod.metadata.labels).toMatchObject({ 'job-name': 'migrate-db', 'batch.kubernetes.io/job-name': 'migrate-db', 'controller-uid': job.metadata.uid, 'batch.kubernetes.io/controller-uid': job.metadata.uid, 'pod-template-hash': '73f8018ae1a701dd' });
    const cron = get('CronJob', 'cronjobs/default/nightly-backup');
    expect(cron.spec).toMatchObject({ schedule: '0 0 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, suspend: false });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure' } } });
    const cronPod = get('Pod', 'pods/default/nightly-backup-a14c18-5g6r8');
    expect(cronPod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', uid: cron.metadata.uid });
    // Each runs its owner's template as the controllers judge it, so they keep the pod (and its
    // name, the node's identity of the work) instead of replacing it at the first start.
    expect(runsSpec(cronPod, cron.spec.jobTemplate.spec.template.spec)).toBe(true);
    expect(runsSpec(pod, job.spec.template.spec)).toBe(true);
  });

  it('labels compose services with their project and service, and keeps their Grove settings as annotations', () => {
    const app = get('Deployment', 'deployments/default/app');
    const labels = { 'com.docker.compose.project': 'homelab', 'com.docker.compose.service': 'app' };
    expect(app.metadata.labels).toEqual(labels);
    expect(app.spec.selector.matchLabels).toEqual(labels);
    expect(app.spec.template.metadata).toEqual({
      labels,
      annotations: { 'grove.io/depends-on': 'db:healthy', 'grove.io/group-add': 'dialout', 'grove.io/devices': '/dev/null:/dev/ttyUSB0:rwm' },
    });
    // Services without restart: always|unless-stopped ran as never-restarting Deployments in 0.1:
    // Kubernetes runs such pods as Jobs, which fail rather than retry (backoffLimit 0).
    const db = get('Job', 'jobs/default/db');
    expect(db.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 0 });
    expect(db.spec.template.spec.containers[0]).toMatchObject({ resources: { limits: { memory: '256Mi' } }, readinessProbe: { exec: { command: ['pg_isready'] } } });
    expect(get('Pod', 'pods/default/db-0775ab-h1ydf').metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'db', uid: db.metadata.uid });
    expect(get('Job', 'jobs/default/init-schema').spec.template.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ args: ['migrate'] }] });
    expect(put.has('deployments/default/db')).toBe(false);
  });

  it('makes Node objects without credential hashes, which move to grove/nodecreds', () => {
    const cordoned = get('Node', 'nodes/hollow-1');
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.metadata.labels).toMatchObject({ zone: 'lab' });
    expect(cordoned.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True' });
    expect(get('Node', 'nodes/hollow-0').spec).toBeUndefined();
    // Labels set through the API, written as the API writes them, so the node's first report keeps them.
    expect(get('Node', 'nodes/hollow-0').metadata).toMatchObject({
      labels: { accelerator: 'none', zone: 'lab', 'kubernetes.io/hostname': 'hollow-0' },
      annotations: { 'grove.io/api-labels': 'accelerator,zone' },
    });
    const reported = nodeWithFacts(get('Node', 'nodes/hollow-0'), { os: 'linux', arch: 'arm64', labels: { 'node.grove.io/hollow': 'true' } });
    expect(reported.metadata.labels).toEqual({ accelerator: 'none', zone: 'lab', 'kubernetes.io/hostname': 'hollow-0', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64', 'node.grove.io/hollow': 'true' });
    expect(JSON.stringify([...put.entries()].filter(([k]) => k.startsWith('nodes/')))).not.toMatch(/credentialHash/);
    const legacy = backup.entries.find((e) => e.key === 'nodes/hollow-1')!.value as { credentialHash: string };
    expect(put.get(GroveKeys.nodeCredential('hollow-1'))).toMatchObject({ credentialHash: legacy.credentialHash });
  });

  it('moves ConfigMaps and Secrets into default (Secret values base64) and Grove records under grove/ unchanged', () => {
    expect(get('ConfigMap', 'configmaps/default/web-config')).toMatchObject({ metadata: { labels: { app: 'web' } }, data: { mode: 'production' } });
    const secret = get('Secret', 'secrets/default/web-secret');
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data!.password!, 'base64').toString()).toBe('s3cret $tuff');
    for (const [legacy, moved] of [['tokens/3a9f7542', GroveKeys.token('3a9f7542')], ['targets/hollow-0', GroveKeys.target('hollow-0')], ['configs/hollow-1', GroveKeys.configBundle('hollow-1')]] as const) {
      expect(put.get(moved)).toEqual(backup.entries.find((e) => e.key === legacy)!.value);
    }
    // 0.1's rollout record: the completed revision's ReplicaSet is marked as the controller marks
    // it (where an automatic rollback goes); no rollout record is kept beside the objects.
    const completed = get('ReplicaSet', 'replicasets/default/web-8edb989c8b0c24e8');
    expect(completed.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '2', 'grove.io/rollout-complete': expect.any(String) });
    expect([...put.keys()].filter((k) => k.startsWith('grove/rollouts/'))).toEqual([]);
  });

  it('gives the same pod template back that the original manifest defaults to (re-apply restarts nothing)', () => {
    // The manifests make-fixture.mjs applied, read as the objects' client reads them (images
    // normalised as 0.1 did).
    const manifest = (file: string, version = '') => readFileSync(join(FIXTURES, 'manifests', file), 'utf8').replaceAll('{{version}}', version);
    const web = (manifest('k8s/web.yaml', '1.27').split('---\n').map((d) => parse(d) as KindObject<'Deployment'>)).find((d) => d.kind === 'Deployment')!;
    web.spec.template.spec.containers[0]!.image = 'docker.io/library/nginx:1.27';
    // As the apply stores it (admit.ts: schema and code defaults).
    const appliedWeb = admitObject('Deployment', web) as unknown as KindObject<'Deployment'>;
    expect(get('Deployment', 'deployments/default/web').spec.template).toEqual(appliedWeb.spec.template);

    const sensors = parse(manifest('k8s/sensors.yaml')) as KindObject<'DaemonSet'>;
    sensors.spec.template.spec.containers[0]!.image = 'ghcr.io/example/sensor-reader:2.1';
    // 0.1 kept cores, not how they were written: "0.1" comes back as Kubernetes' canonical "100m".
    sensors.spec.template.spec.containers[0]!.resources!.limits!.cpu = '100m';
    const appliedSensors = admitObject('DaemonSet', sensors) as unknown as KindObject<'DaemonSet'>;
    expect(get('DaemonSet', 'daemonsets/default/sensor-reader').spec.template).toEqual(appliedSensors.spec.template);
  });
});

describe('migrateLegacy refuses what it cannot carry over', () => {
  it('names unknown keys and records without their 0.1 shape, never drops them', () => {
    const result = migrateLegacy(
      [
        { key: 'cluster', value: { name: 'edge' } },
        { key: 'widgets/x', value: {} },
        { key: 'apps/broken', value: { kind: 'App', meta: { name: 'broken' } } },
        { key: 'pods/p-1', value: { kind: 'Pod', meta: { name: 'other' }, app: 'x', templateHash: 'h' } },
      ],
      context(),
    );
    expect(result.problems).toEqual([
      { key: 'widgets/x', message: 'not a key of the Grove 0.1 store layout' },
      { key: 'apps/broken', message: 'not a Grove 0.1 App record' },
      { key: 'pods/p-1', message: 'not a Grove 0.1 pod record' },
    ]);
  });

  it('reports an App whose object would be invalid instead of writing it', () => {
    const app = backup.entries.find((e) => e.key === 'apps/gpu-worker')!.value as { spec: { replicas: number } };
    const result = migrateLegacy([{ key: 'apps/gpu-worker', value: { ...app, spec: { ...app.spec, replicas: 5000 } } }], context());
    expect(result.problems).toEqual([{ key: 'apps/gpu-worker', message: expect.stringMatching(/^its Deployment gpu-worker would not be valid: spec\.replicas: /) as string }]);
  });

  it('writes 0.1\'s last automatic rollback and stable revision as the Deployment controller keeps them', () => {
    const web = backup.entries.filter((e) => e.key === 'apps/web' || e.key.startsWith('revisions/web/') || e.key.startsWith('pods/web-'));
    const record = backup.entries.find((e) => e.key === 'rollouts/web')!.value as { revision: number; templateHash: string; startedAt: string };
    const revisions = web.filter((e) => e.key.startsWith('revisions/web/')).map((e) => e.value as { revision: number; templateHash: string });
    const stable = revisions.find((r) => r.revision === 1)!;
    const failed = { ...record, phase: 'Failed', stableHash: stable.templateHash, lastRollback: { fromRevision: 2, toRevision: 1, at: '2030-01-01T00:00:00.000Z', reason: 'no progress for 600 s' } };
    const result = migrateLegacy([...web, { key: 'rollouts/web', value: failed }], context());
    expect(result.problems).toEqual([]);
    const puts = new Map(result.puts.map((p) => [p.key, p.value as KindObject<'Deployment'>]));
    expect(puts.get('deployments/default/web')!.metadata.annotations?.['grove.io/last-rollback']).toBe('revision 2 → 1 at 2030-01-01T00:00:00.000Z: no progress for 600 s');
    expect(puts.get(`replicasets/default/web-${stable.templateHash}`)!.metadata.annotations?.['grove.io/rollout-complete']).toBe(record.startedAt);
    expect(puts.get(`replicasets/default/web-${record.templateHash}`)!.metadata.annotations?.['grove.io/rollout-complete']).toBeUndefined();
  });

  it('lists the records of apps that no longer exist as dropped', () => {
    const orphans = backup.entries.filter((e) => e.key.startsWith('pods/web-') || e.key.startsWith('revisions/web/') || e.key === 'rollouts/web');
    const result = migrateLegacy(orphans, context());
    expect(result.problems).toEqual([]);
    expect(result.dropped).toHaveLength(orphans.length);
    expect(result.dropped.every((d) => d.message === 'its app web does not exist')).toBe(true);
    expect(result.deletes.sort()).toEqual(orphans.map((e) => e.key).sort());
  });
});

describe('planUpgrade', () => {
  it('seals Secrets and node keys again under their new keys', () => {
    const upgraded = planUpgrade(backup.entries, secretKey, context());
    expect(upgraded.state).toBe('migrated');
    const ops = new Map((upgraded as { ops: { type: string; key: string; value?: unknown }[] }).ops.map((o) => [o.key, o]));
    const secret = ops.get('secrets/default/web-secret')!.value;
    expect(isSealed(secret)).toBe(true);
    expect(openSealedValue(secretKey, 'secrets/default/web-secret', secret as never)).toMatchObject({ kind: 'Secret', data: { token: Buffer.from('abc123').toString('base64') } });
    const nodeKey = ops.get(GroveKeys.nodeKey('hollow-0'))!.value;
    expect(openSealedValue(secretKey, GroveKeys.nodeKey('hollow-0'), nodeKey as never)).toMatchObject({ key: expect.any(String) as string });
    expect(ops.get('secrets/web-secret')).toEqual({ type: 'delete', key: 'secrets/web-secret' });
  });

  it('refuses a store whose sealed records do not open with the key, naming the record', () => {
    expect(() => planUpgrade(backup.entries, Buffer.alloc(32, 7), context())).toThrow(/^nodekeys\/hollow-0 does not open with the secrets key in use .*nothing was changed$/);
    expect(() => planUpgrade(backup.entries, undefined, context())).toThrow(/nodekeys\/hollow-0 is sealed but there is no secrets key/);
  });

  it('refuses with every problem named, and writes nothing', () => {
    const entries = [...backup.entries, { key: 'widgets/a', value: 1, revision: 1 }, { key: 'widgets/b', value: 2, revision: 1 }];
    expect(() => planUpgrade(entries, secretKey, context())).toThrow(/^cannot upgrade the Grove 0\.1 store \(2 problem\(s\); nothing was changed\): widgets\/a: not a key of the Grove 0\.1 store layout; widgets\/b: not a key of the Grove 0\.1 store layout$/);
  });

  it('marks an empty store as the current layout, leaves a current one alone, refuses a newer one', () => {
    expect(planUpgrade([], undefined, context())).toEqual({ state: 'fresh', ops: [{ type: 'put', key: GroveKeys.schemaVersion, value: { version: 2 } }] });
    expect(planUpgrade([{ key: GroveKeys.schemaVersion, value: { version: 2 } }, { key: 'widgets/x', value: 1 }], undefined, context())).toEqual({ state: 'current' });
    expect(() => planUpgrade([{ key: GroveKeys.schemaVersion, value: { version: 3 } }], undefined, context())).toThrow(/layout is version 3, this Grove reads version 2/);
  });

  it('carries a 0.1 Secret stored in plaintext (before encryption at rest) over unsealed when there is no key', () => {
    const plaintext = { kind: 'Secret', meta: { name: 's', labels: {}, annotations: {} }, data: { a: 'b' } };
    const upgraded = planUpgrade([{ key: 'secrets/s', value: plaintext }], undefined, context());
    const op = (upgraded as { ops: { key: string; value?: unknown }[] }).ops.find((o) => o.key === 'secrets/default/s');
    expect(op?.value).toMatchObject({ kind: 'Secret', data: { a: 'Yg==' } });
    expect(isSealed(sealStoreValue(secretKey, 'k', 1))).toBe(true);
  });
});

describe('quantities written back', () => {
  it('spells bytes with the largest exact unit and cores as numbers or millicores', () => {
    expect([64 * 1024 ** 2, 1024 ** 3, 1536 * 1024, 500_000_000, 1000, 1001].map(bytesQuantity)).toEqual(['64Mi', '1Gi', '1536Ki', '500M', '1k', '1001']);
    expect([0.5, 2, 0.1, 1.25].map(cpuQuantity)).toEqual(['500m', '2', '100m', '1250m']);
  });
});

describe('container fields written back', () => {
  const template = (c: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    podTemplateSpec({ labels: {}, annotations: {}, nodeSelector: {}, restartPolicy: 'Always', hostNetwork: false, containers: [{ name: 'app', image: 'reg.lan/app:1', env: [], resources: {}, ...c }], ...extra } as never);

  it('escapes what 0.1 expanded already, so the agent\'s $(VAR) expansion gives the same values', () => {
    const stored = { command: ['sh', '-c', 'echo $(A) $HOME'], args: ['a$$b'], env: [{ name: 'A', value: 'one' }, { name: 'B', value: '$(A)' }] };
    const c = template(stored).spec.containers[0]!;
    expect(c.command).toEqual(['sh', '-c', 'echo $$(A) $HOME']);
    expect(c.env).toEqual([{ name: 'A', value: 'one' }, { name: 'B', value: '$$(A)' }]);
    const vars = new Map([['A', 'one']]);
    expect([...c.command!, ...c.args!].map((s) => expandK8sVars(s, vars))).toEqual([...stored.command, ...stored.args]);
  });

  it('maps 0.1\'s security fields (privileged, seccomp, supplementary groups) onto securityContext', () => {
    const t = template({ privileged: true, seccompProfile: { type: 'Unconfined' } }, { supplementalGroups: ['20', 'dialout'] });
    expect(t.spec.containers[0]!.securityContext).toEqual({ privileged: true, seccompProfile: { type: 'Unconfined' } });
    expect(t.spec.securityContext).toEqual({ supplementalGroups: [20] });
    expect(t.metadata?.annotations).toEqual({ 'grove.io/group-add': 'dialout' });
  });
});
