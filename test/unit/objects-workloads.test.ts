import { describe, expect, it } from 'vitest';
import { checkGroveAnnotations, readGroveAnnotations, parseDependsOn, formatDependsOn, parseSource, formatSource, groveAnnotationsOf } from '../../src/core/objects/annotations.js';
import { pathText } from '../../src/core/objects/explain.js';
import { checkObject, validate, type KindName } from '../../src/core/objects/validate.js';

const template = (spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }], ...spec },
});

function problems(kind: KindName, value: unknown): string[] {
  const r = checkObject(kind, value, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
}

function defaulted<K extends KindName>(kind: K, value: unknown) {
  const r = validate(kind, value);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r.value;
}

const deployment = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
});

describe('Deployment', () => {
  it('gets Kubernetes\' defaults', () => {
    const d = defaulted('Deployment', deployment());
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(30);
  });

  it('fills a partial strategy, and refuses rolling parameters with Recreate', () => {
    expect(defaulted('Deployment', deployment({ strategy: { rollingUpdate: { maxSurge: 1 } } })).spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
    expect(defaulted('Deployment', deployment({ strategy: { type: 'Recreate' } })).spec.strategy).toEqual({ type: 'Recreate' });
    expect(problems('Deployment', deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } }))).toEqual(['spec.strategy.rollingUpdate: only with type: RollingUpdate']);
    expect(problems('Deployment', deployment({ strategy: { type: 'OnDelete' } }))).toEqual(['spec.strategy.type: "OnDelete" must be RollingUpdate or Recreate']);
    expect(problems('Deployment', deployment({ strategy: { rollingUpdate: { maxSurge: '150%' } } }))).toEqual([
      'spec.strategy.rollingUpdate.maxSurge: "150%" must be a whole number or a percentage from 0% to 100%, such as "25%"',
    ]);
  });

  it('keeps today\'s rules: pods always restart, the selector selects the template, known fields Grove lacks are refused', () => {
    expect(problems('Deployment', deployment({ template: template({ restartPolicy: 'OnFailure' }) }))).toEqual([
      'spec.template.spec.restartPolicy: "OnFailure" must be Always: Deployment, ReplicaSet and DaemonSet pods always restart (as in Kubernetes)',
    ]);
    expect(problems('Deployment', deployment({ selector: { matchLabels: { app: 'api' } } }))).toEqual([
      'spec.selector.matchLabels: app=api does not match spec.template.metadata.labels (the selector must select the template\'s labels)',
    ]);
    expect(problems('Deployment', deployment({ selector: { matchLabels: {} } }))).toEqual(['spec.selector: must not be empty: give matchLabels or matchExpressions']);
    expect(problems('Deployment', deployment({ selector: { matchLabels: { app: 'web' }, matchExpressions: [] } }))).toEqual([]);
    expect(problems('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } }))).toEqual([]);
    expect(problems('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }))).toEqual([
      'spec.selector.matchExpressions[0]: app notin (web) does not match spec.template.metadata.labels (the selector must select the template\'s labels)',
    ]);
    expect(problems('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }))).toEqual(['spec.selector.matchExpressions[0].values: operator In needs at least one value']);
    expect(problems('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] } }))).toEqual(['spec.selector.matchExpressions[0].operator: "Gt" expected In, NotIn, Exists, DoesNotExist']);
    expect(problems('Deployment', deployment({ paused: true, minReadySeconds: 5 }))).toEqual(['spec.minReadySeconds: not supported yet', 'spec.paused: not supported yet']);
    expect(problems('Deployment', deployment({ replicas: 1001 }))).toEqual(['spec.replicas: must be ≤ 1000, got 1001']);
  });
});

describe('DaemonSet, ReplicaSet, ControllerRevision', () => {
  it('default as Kubernetes does', () => {
    const ds = defaulted('DaemonSet', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
    expect(defaulted('DaemonSet', { ...ds, spec: { ...ds.spec, updateStrategy: { type: 'OnDelete' } } }).spec.updateStrategy).toEqual({ type: 'OnDelete' });
    const rs = defaulted('ReplicaSet', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } });
    expect(rs.spec.replicas).toBe(1);
  });

  it('checks the template a ControllerRevision keeps, and that it has no status', () => {
    const cr = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'agent-1' }, revision: 2, data: { spec: { template: template() } } };
    expect(problems('ControllerRevision', cr)).toEqual([]);
    expect(problems('ControllerRevision', { ...cr, revision: -1 })).toEqual(['revision: must be ≥ 0, got -1']);
    expect(problems('ControllerRevision', { ...cr, status: {} })).toEqual(['status: ControllerRevisions have no status']);
  });

  it("lets a StatefulSet's revision mount its claim templates by name, and no one else's", () => {
    const mounting = template({ containers: [{ name: 'web', image: 'nginx:1.27', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] });
    const owner = (kind: string) => [{ apiVersion: 'apps/v1', kind, name: 'web', uid: 'u1', controller: true }];
    const cr = (kind: string) => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-1', ownerReferences: owner(kind) }, revision: 1, data: { spec: { template: mounting } } });
    expect(problems('ControllerRevision', cr('StatefulSet'))).toEqual([]);
    expect(problems('ControllerRevision', cr('DaemonSet'))).toEqual(['data.spec.template.spec.containers[0].volumeMounts[0].name: no volume named "data" in this pod\'s volumes']);
  });
});

describe('Job and CronJob', () => {
  const job = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: { template: template({ restartPolicy: 'Never' }), ...spec } });
  const cron = (spec: Record<string, unknown> = {}) => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'backup' },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: template({ restartPolicy: 'OnFailure' }) } }, ...spec },
  });

  it('get Kubernetes\' defaults', () => {
    expect(defaulted('Job', job()).spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed' });
    const c = defaulted('CronJob', cron()).spec;
    expect(c).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(c.jobTemplate.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
  });

  it('keep today\'s rules', () => {
    // Kubernetes defaults restartPolicy to Always, which a Job refuses: it must be written.
    expect(problems('Job', job({ template: template() }))).toEqual(['spec.template.spec.restartPolicy: "Always" must be OnFailure or Never: a Job runs its pods to completion (as in Kubernetes)']);
    expect(problems('Job', job({ completionMode: 'Indexed' }))).toEqual(['spec.completionMode: "Indexed" must be NonIndexed: Indexed Jobs are not supported yet']);
    expect(problems('Job', job({ suspend: true, podFailurePolicy: {} }))).toEqual(['spec.podFailurePolicy: not supported yet', 'spec.suspend: not supported yet']);
    expect(problems('Job', job({ completions: 1001 }))).toEqual(['spec.completions: must be ≤ 1000, got 1001']);
    expect(problems('Job', job({ template: template({ restartPolicy: 'Never', initContainers: [{ name: 'i', image: 'busybox:1' }] }) }))).toEqual([
      'spec.template.spec.initContainers[0]: is not supported on Job pods yet (native sidecars, restartPolicy: Always, are)',
    ]);
    expect(problems('Job', job({ template: template({ restartPolicy: 'Never', initContainers: [{ name: 'i', image: 'busybox:1', restartPolicy: 'Always' }] }) }))).toEqual([]);
    expect(problems('CronJob', cron({ startingDeadlineSeconds: 60 }))).toEqual([]);
    expect(problems('CronJob', cron({ schedule: '* * * * *; rm -rf /' }))).toEqual(['spec.schedule: "* * * * *; rm -rf /" must be a cron schedule such as "*/5 * * * *"']);
    expect(problems('CronJob', { ...cron(), metadata: { name: 'b'.repeat(53) } })).toEqual(['metadata.name: longer than 52 characters']);
  });
});

describe('ConfigMap and Secret', () => {
  const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data });
  const secret = (extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, ...extra });

  it('default a Secret\'s type and hold its values as base64', () => {
    expect(defaulted('Secret', secret({ data: { pw: 'aHVudGVyMg==\n' } })).type).toBe('Opaque');
    expect(problems('Secret', secret({ data: { pw: 'not base64!' } }))).toEqual(['data.pw: is not valid base64 (put plain text under stringData)']);
    expect(problems('Secret', secret({ data: { pw: 'aHVudGVyMg=' } }))).toEqual(['data.pw: is not valid base64 (put plain text under stringData)']);
    expect(problems('Secret', secret({ data: { pw: Buffer.from([0xff, 0xfe]).toString('base64') } }))).toEqual(['data.pw: is not UTF-8 text: binary Secret values are not supported yet']);
    expect(problems('Secret', secret({ type: 'kubernetes.io/service-account-token' }))[0]).toMatch(/^type: must be one of Opaque, kubernetes\.io\/tls/);
  });

  it('never quote a Secret\'s values', () => {
    const all = problems('Secret', secret({ data: { pw: 7 }, stringData: { x: 'hunter2', 'bad key': 'y' } })).join('\n');
    expect(all).not.toContain('hunter2');
    expect(all).toContain('data.pw: expected a string, got number');
  });

  it('keep Kubernetes\' size limit and key syntax', () => {
    expect(problems('ConfigMap', cm({ a: 'x'.repeat(1024 * 1024) }))).toEqual(['data: 1048577 bytes of keys and values: a ConfigMap may hold at most 1048576 bytes (1 MiB)']);
    expect(problems('ConfigMap', cm({ 'a/b': 'x' }))).toEqual(['data["a/b"]: key "a/b" must be letters, digits, -, _ or .']);
    // binaryData: base64, counted decoded within the same limit, keys not also in data.
    expect(problems('ConfigMap', { ...cm({ a: 'x' }), binaryData: { b: Buffer.from([0, 255, 1]).toString('base64') } })).toEqual([]);
    expect(problems('ConfigMap', { ...cm({ a: 'x' }), binaryData: { a: 'AAEC' } })).toEqual(['binaryData.a: duplicates a key of data: a key is in data or in binaryData']);
    expect(problems('ConfigMap', { ...cm({}), binaryData: { b: 'AAE' } })).toEqual(['binaryData.b: is not valid base64']);
    expect(problems('ConfigMap', { ...cm({ a: 'x'.repeat(600 * 1024) }), binaryData: { b: Buffer.alloc(600 * 1024).toString('base64') } })[0]).toMatch(/^data: \d+ bytes of keys and values: a ConfigMap may hold at most 1048576 bytes/);
  });
});

describe('grove.io annotations', () => {
  it('are checked where they are written, a typo named with what it meant', () => {
    const d = deployment({ template: { ...template(), metadata: { labels: { app: 'web' }, annotations: { 'grove.io/devices': '/dev/ttyUSB0,/etc/passwd' } } } });
    const withMeta = { ...d, metadata: { name: 'web', annotations: { 'grove.io/update-windw': '0 2 * * *', 'grove.io/auto-rollback': 'maybe', 'grove.io/eviction-timeout': 'soon' } } };
    expect(problems('Deployment', withMeta)).toEqual([
      'metadata.annotations["grove.io/update-windw"]: unknown Grove annotation (did you mean grove.io/update-window?)',
      'metadata.annotations["grove.io/auto-rollback"]: must be "true" or "false", got "maybe"',
      'metadata.annotations["grove.io/eviction-timeout"]: "soon" is not a duration (use e.g. 90s, 5m)',
      'spec.template.metadata.annotations["grove.io/devices"]: host path "/etc/passwd" must be under /dev/',
    ]);
    expect(checkGroveAnnotations({ 'grove.io/update-window-duration': '2h' })).toEqual([{ source: 0, key: 'grove.io/update-window-duration', reason: 'needs grove.io/update-window' }]);
    expect(checkGroveAnnotations({ 'grove.io/update-window': '0 2 * * *' }, { 'grove.io/update-window-duration': '2h' })).toEqual([]);
    expect(checkGroveAnnotations({ 'grove.io/role': 'x', 'example.com/anything': 'y' })).toEqual([]);
  });

  it('are read leniently: the pod\'s first, then its owner\'s, a bad value as none', () => {
    const s = readGroveAnnotations(
      { 'grove.io/devices': '/dev/i2c-1', 'grove.io/depends-on': 'db:healthy,cache', 'grove.io/group-add': 'i2c,dialout' },
      { 'grove.io/update-window': '0 2 * * *', 'grove.io/auto-rollback': 'false', 'grove.io/eviction-timeout': 'soon', 'grove.io/arch': 'arm64,ARM' },
    );
    expect(s).toEqual({
      autoRollback: false,
      update: { window: { schedule: '0 2 * * *', durationSeconds: 3600 } },
      devices: [{ hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'rwm' }],
      dependsOn: [{ app: 'db', condition: 'healthy' }, { app: 'cache', condition: 'started' }],
      groupNames: ['i2c', 'dialout'],
      arch: ['arm64', 'arm'],
    });
    expect(readGroveAnnotations(undefined)).toEqual({ autoRollback: true });
    expect(readGroveAnnotations({ 'grove.io/update-window': 'every night' })).toEqual({ autoRollback: true });
  });

  it('round-trip their own formats', () => {
    const deps = parseDependsOn('db:healthy, migrate:completed');
    expect(formatDependsOn(deps)).toBe('db:healthy,migrate:completed');
    expect(() => parseDependsOn('db:ready')).toThrow(/condition must be started, healthy or completed/);
    expect(() => parseDependsOn('db,db')).toThrow(/listed twice/);
    expect(parseSource(formatSource({ format: 'compose', file: 'app.yml', document: 1 }))).toEqual({ format: 'compose', file: 'app.yml', document: 1 });
    expect(parseSource('kubernetes:')).toEqual({ format: 'kubernetes' });
    expect(groveAnnotationsOf({ 'grove.io/devices': '/dev/x', 'kubernetes.io/change-cause': 'y' })).toEqual({ 'grove.io/devices': '/dev/x' });
    expect(groveAnnotationsOf({ a: 'b' })).toBeUndefined();
  });
});
