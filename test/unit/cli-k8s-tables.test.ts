import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/format.js';
import { jobCompletions, jobStatus } from '../../src/core/objects/columns/columns-batch.js';
import { nodeRoles, nodeStatus } from '../../src/core/objects/columns/columns-core.js';
import { objectTable, type TableOptions } from '../../src/cli/verbs/client/k8s/tables.js';
import { KINDS } from '../../src/core/objects/kinds.js';
import { ago, deployment, node, NOW, pod, running, stored } from './cli-k8s-fixtures.js';

const PLAIN: TableOptions = { wide: false, allNamespaces: false, withKind: false, now: NOW };
const WIDE: TableOptions = { ...PLAIN, wide: true };

function text(kind: keyof typeof KINDS, objects: Parameters<typeof objectTable>[1], options = PLAIN): string {
  const t = objectTable(KINDS[kind], objects, options);
  return table(t.headers, t.rows);
}

describe('Deployment, ReplicaSet, DaemonSet, ControllerRevision', () => {
  const web = deployment('web', 3, { replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });

  it('Deployment: NAME READY UP-TO-DATE AVAILABLE AGE; wide adds CONTAINERS IMAGES SELECTOR', () => {
    expect(text('Deployment', [web, deployment('api', 1, {})])).toBe(
      ['NAME   READY   UP-TO-DATE   AVAILABLE   AGE', 'web    2/3     2            2           10m', 'api    0/1     0            0           10m'].join('\n'),
    );
    expect(objectTable(KINDS.Deployment, [web], WIDE)).toEqual({
      headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
      rows: [['web', '2/3', '2', '2', '10m', 'web,log', 'nginx:1.27,busybox:1.36', 'app=web,tier=front']],
    });
  });

  it('ReplicaSet: NAME DESIRED CURRENT READY AGE', () => {
    const rs = stored('ReplicaSet', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-5f6c8d', namespace: 'default', labels: { app: 'web', 'pod-template-hash': '5f6c8d' } },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5f6c8d' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': '5f6c8d' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      status: { replicas: 3, readyReplicas: 1, availableReplicas: 1 },
    });
    expect(objectTable(KINDS.ReplicaSet, [rs], PLAIN).rows).toEqual([['web-5f6c8d', '3', '3', '1', '10m']]);
    expect(objectTable(KINDS.ReplicaSet, [rs], WIDE).rows[0]!.slice(5)).toEqual(['web', 'nginx:1.27', 'app=web,pod-template-hash=5f6c8d']);
  });

  it('DaemonSet: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE', () => {
    const ds = stored('DaemonSet', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'sensor', namespace: 'iot' },
      spec: { selector: { matchLabels: { app: 'sensor' } }, template: { metadata: { labels: { app: 'sensor' } }, spec: { nodeSelector: { role: 'sensor', 'kubernetes.io/arch': 'arm64' }, containers: [{ name: 'read', image: 'ghcr.io/acme/sensor:2' }] } } },
      status: { desiredNumberScheduled: 4, currentNumberScheduled: 4, numberReady: 3, updatedNumberScheduled: 4, numberAvailable: 3, numberMisscheduled: 0 },
    });
    const t = objectTable(KINDS.DaemonSet, [ds], { ...PLAIN, allNamespaces: true });
    expect(t.headers).toEqual(['NAMESPACE', 'NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    expect(t.rows).toEqual([['iot', 'sensor', '4', '4', '3', '4', '3', 'kubernetes.io/arch=arm64,role=sensor', '10m']]);
  });

  it('ControllerRevision: NAME CONTROLLER REVISION AGE', () => {
    const cr = stored('ControllerRevision', {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'sensor-7d9f', namespace: 'iot', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'sensor', uid: 'u1', controller: true, blockOwnerDeletion: true }] },
      revision: 2,
    });
    expect(objectTable(KINDS.ControllerRevision, [cr], PLAIN).rows).toEqual([['sensor-7d9f', 'daemonset.apps/sensor', '2', '10m']]);
  });
});

describe('Pod', () => {
  it('NAME READY STATUS RESTARTS AGE; wide adds IP NODE NOMINATED NODE READINESS GATES', () => {
    const p = pod('web-5f6c8d-x2k4b', { phase: 'Running', podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }], containerStatuses: [running('web')] });
    expect(text('Pod', [p, pod('web-5f6c8d-b9z2q', { phase: 'Pending' }, { spec: { nodeName: undefined } })], WIDE)).toBe(
      [
        'NAME               READY   STATUS    RESTARTS   AGE   IP          NODE     NOMINATED NODE   READINESS GATES',
        'web-5f6c8d-x2k4b   1/1     Running   0          10m   10.42.0.7   pi-1     <none>           <none>',
        'web-5f6c8d-b9z2q   0/1     Pending   0          10m   <none>      <none>   <none>           <none>',
      ].join('\n'),
    );
  });

  it('-A puts NAMESPACE first; several kinds name objects kind/name', () => {
    const t = objectTable(KINDS.Pod, [pod('web-1', { phase: 'Running', containerStatuses: [running('web')] })], { ...PLAIN, allNamespaces: true, withKind: true });
    expect(t.headers[0]).toBe('NAMESPACE');
    expect(t.rows[0]!.slice(0, 2)).toEqual(['default', 'pod/web-1']);
  });
});

describe('Job and CronJob', () => {
  const job = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
    stored('Job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: 'default', ...metadata },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:1' }] } }, ...spec },
      status,
    });

  it('NAME STATUS COMPLETIONS DURATION AGE, STATUS from the conditions', () => {
    const done = job({ succeeded: 1, startTime: ago(500), completionTime: ago(435), conditions: [{ type: 'Complete', status: 'True' }] });
    const runningJob = job({ active: 1, startTime: ago(30) });
    const failed = job({ failed: 7, startTime: ago(400), conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] });
    expect(text('Job', [done, runningJob, failed, job({})])).toBe(
      [
        'NAME      STATUS     COMPLETIONS   DURATION   AGE',
        'migrate   Complete   1/1           65s        10m',
        'migrate   Running    0/1           30s        10m',
        'migrate   Failed     0/1           6m40s      10m',
        'migrate   Running    0/1                      10m',
      ].join('\n'),
    );
    expect(jobStatus(job({ active: 1 }, {}, { deletionTimestamp: ago(1) }))).toBe('Terminating');
    expect(jobStatus(job({ conditions: [{ type: 'Complete', status: 'False' }] }))).toBe('Running');
  });

  it('completions: succeeded of completions (defaulted to 1), and a work queue as kubectl writes it', () => {
    expect(jobCompletions(job({ succeeded: 2 }, { completions: 3 }))).toBe('2/3');
    const queue = job({});
    delete queue.spec.completions;
    queue.spec.parallelism = 4;
    expect(jobCompletions(queue)).toBe('0/1 of 4');
  });

  it('CronJob: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE', () => {
    const cj = stored('CronJob', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'backup', namespace: 'default' },
      spec: { schedule: '0 3 * * *', timeZone: 'Europe/Berlin', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'dump', image: 'postgres:16' }] } } } } },
      status: { active: [{ kind: 'Job', name: 'backup-29541600', namespace: 'default' }], lastScheduleTime: ago(7200) },
    });
    const never = stored('CronJob', { ...cj, metadata: { name: 'prune', namespace: 'default' }, spec: { ...cj.spec, timeZone: undefined, suspend: true }, status: {} });
    expect(text('CronJob', [cj, never])).toBe(
      [
        'NAME     SCHEDULE    TIMEZONE        SUSPEND   ACTIVE   LAST SCHEDULE   AGE',
        'backup   0 3 * * *   Europe/Berlin   False     1        120m            10m',
        'prune    0 3 * * *   <none>          True      0        <none>          10m',
      ].join('\n'),
    );
    expect(objectTable(KINDS.CronJob, [cj], WIDE).rows[0]!.slice(7)).toEqual(['dump', 'postgres:16', '<none>']);
  });
});

describe('Node, Namespace, ConfigMap, Secret', () => {
  it('Node: NAME STATUS ROLES AGE VERSION; wide adds addresses and system info', () => {
    const nodes = [node('pi-1', { ready: 'True', labels: { 'node-role.kubernetes.io/control-plane': '' } }), node('pi-2', { ready: 'Unknown', unschedulable: true }), node('pi-3')];
    expect(text('Node', nodes)).toBe(
      [
        'NAME   STATUS                        ROLES           AGE   VERSION',
        'pi-1   Ready                         control-plane   12d   v0.2.0',
        'pi-2   NotReady,SchedulingDisabled   <none>          12d   v0.2.0',
        'pi-3   Unknown                       <none>          12d   v0.2.0',
      ].join('\n'),
    );
    expect(objectTable(KINDS.Node, nodes.slice(0, 1), WIDE).rows[0]!.slice(5)).toEqual(['192.168.1.21', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.6.31-v8+', 'crun://1.14']);
    expect(nodeStatus(node('pi-4', { ready: 'False' }))).toBe('NotReady');
    expect(nodeRoles(node('pi-5', { labels: { 'kubernetes.io/role': 'edge', 'node-role.kubernetes.io/worker': 'true' } }))).toBe('edge,worker');
  });

  it('Namespace, ConfigMap and Secret: kubectl has no wide columns for them', () => {
    const ns = stored('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'iot' }, status: { phase: 'Terminating' } }, 45);
    expect(objectTable(KINDS.Namespace, [ns], { ...WIDE, allNamespaces: true })).toEqual({ headers: ['NAME', 'STATUS', 'AGE'], rows: [['iot', 'Terminating', '45s']] });
    const cm = stored('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { a: '1', b: '2' } });
    expect(objectTable(KINDS.ConfigMap, [cm], WIDE)).toEqual({ headers: ['NAME', 'DATA', 'AGE'], rows: [['settings', '2', '10m']] });
    const secret = stored('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: 'aHVudGVyMg==' } });
    const tls = stored('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } });
    expect(objectTable(KINDS.Secret, [secret, tls], PLAIN).rows).toEqual([
      ['db', 'Opaque', '1', '10m'],
      ['cert', 'kubernetes.io/tls', '2', '10m'],
    ]);
  });
});
