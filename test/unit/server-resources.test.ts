import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/core/manifests/index.js';
import { canonicalJson } from '../../src/server/targets.js';
import { validateResources } from '../../src/server/validate.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { applyResources, deleteResource, getResource } from '../../src/server/resources.js';
import { validateResource } from '../../src/server/validate.js';
import type { App, ConfigMap, Secret } from '../../src/core/resolved-pod.js';
import { isGroveError } from '../../src/core/errors.js';
import { app } from './server-fixtures.js';

const T0 = new Date('2025-03-01T10:00:00Z');
const T1 = new Date('2025-03-01T11:00:00Z');

const cm = (name: string, data: Record<string, string> = { a: '1' }): ConfigMap => ({ kind: 'ConfigMap', meta: { name, labels: {}, annotations: {} }, data });
const secret = (name: string): Secret => ({ kind: 'Secret', meta: { name, labels: {}, annotations: {} }, data: { password: 'hunter2' } });

async function freshStore(): Promise<MemoryStore> {
  const s = new MemoryStore();
  await s.open();
  return s;
}

function expectInvalid(fn: () => unknown, message: RegExp | string): void {
  try {
    fn();
  } catch (err) {
    expect(isGroveError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an InvalidArgument error');
}

describe('applyResources', () => {
  it('creates everything in one commit and reports each resource', async () => {
    const store = await freshStore();
    const r = await applyResources(store, [app('web'), cm('conf'), secret('creds')], T0);
    expect(r).toEqual({
      results: [
        { kind: 'App', name: 'web', action: 'created' },
        { kind: 'ConfigMap', name: 'conf', action: 'created' },
        { kind: 'Secret', name: 'creds', action: 'created' },
      ],
      revision: 1,
    });
    const stored = (await store.get<App>('apps/web'))!.value;
    expect(stored.generation).toBe(1);
    expect(stored.meta).toEqual({ name: 'web', labels: {}, annotations: {}, createdAt: T0.toISOString(), updatedAt: T0.toISOString() });
    expect((await store.get('configmaps/conf'))!.value).toMatchObject({ data: { a: '1' } });
    expect((await store.get('secrets/creds'))!.value).toMatchObject({ data: { password: 'hunter2' } });
  });

  it('an unchanged apply writes nothing and keeps the revision', async () => {
    const store = await freshStore();
    await applyResources(store, [app('web'), cm('conf')], T0);
    const again = await applyResources(store, [app('web'), { ...cm('conf'), meta: { ...cm('conf').meta, source: { format: 'kubernetes', file: 'other.yaml' } } }], T1);
    expect(again.results.map((x) => x.action)).toEqual(['unchanged', 'unchanged']);
    expect(again.revision).toBe(1);
    expect(store.revision()).toBe(1);
  });

  it('bumps generation only when the spec changes', async () => {
    const store = await freshStore();
    await applyResources(store, [app('web')], T0);
    const relabelled = app('web');
    relabelled.meta.labels = { team: 'a' };
    const r1 = await applyResources(store, [relabelled], T1);
    expect(r1.results[0]!.action).toBe('configured');
    let stored = (await store.get<App>('apps/web'))!.value;
    expect(stored.generation).toBe(1);
    expect(stored.meta.createdAt).toBe(T0.toISOString());
    expect(stored.meta.updatedAt).toBe(T1.toISOString());
    const scaled = app('web', { replicas: 3 });
    scaled.meta.labels = { team: 'a' };
    await applyResources(store, [scaled], T1);
    stored = (await store.get<App>('apps/web'))!.value;
    expect(stored.generation).toBe(2);
  });

  it('is atomic: one bad resource and nothing is stored', async () => {
    const store = await freshStore();
    const bad = app('bad');
    bad.spec.template.containers[0]!.image = 'NOT A VALID IMAGE';
    await expect(applyResources(store, [app('web'), bad], T0)).rejects.toThrow(/resources\[1\]\.spec\.template\.containers\[0\]\.image/);
    expect(store.revision()).toBe(0);
    expect(await store.list('')).toEqual([]);
  });

  it('rejects duplicates and empty lists', async () => {
    const store = await freshStore();
    await expect(applyResources(store, [cm('a'), cm('a')], T0)).rejects.toThrow('resources[1]: ConfigMap/a appears twice');
    await expect(applyResources(store, [], T0)).rejects.toThrow(/nothing to apply/);
    await expect(applyResources(store, 'x', T0)).rejects.toThrow(/expected an array/);
  });

  it('canonicalises images so equivalent references do not count as a change', async () => {
    const store = await freshStore();
    const short = app('web', { image: 'nginx:1.27' });
    await applyResources(store, [short], T0);
    expect((await store.get<App>('apps/web'))!.value.spec.template.containers[0]!.image).toBe('docker.io/library/nginx:1.27');
    expect((await applyResources(store, [app('web')], T1)).results[0]!.action).toBe('unchanged');
  });

  it('deleteResource removes and reports NotFound', async () => {
    const store = await freshStore();
    await applyResources(store, [cm('conf')], T0);
    expect(await deleteResource(store, 'ConfigMap', 'conf')).toBe(2);
    await expect(deleteResource(store, 'ConfigMap', 'conf')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(getResource(store, 'App', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('getResource fills meta.revision from the store', async () => {
    const store = await freshStore();
    await applyResources(store, [cm('conf')], T0);
    expect((await getResource<ConfigMap>(store, 'ConfigMap', 'conf')).meta.revision).toBe(1);
  });
});

describe('validateResource', () => {
  const ok = (): App => app('web');

  it('rejects unknown kinds, unknown fields and bad names with the field path', () => {
    expectInvalid(() => validateResource({ kind: 'Pod', meta: { name: 'x' } }, 'r'), 'r.kind: unknown kind "Pod"');
    expectInvalid(() => validateResource({ ...ok(), extra: 1 }, 'r'), 'r.extra: unknown field');
    expectInvalid(() => validateResource({ ...ok(), meta: { name: 'Web_1' } }, 'r'), /r\.meta\.name: "Web_1" is not a valid name/);
    expectInvalid(() => validateResource(null, 'r'), 'r: expected an object, got null');
  });

  it('checks spec fields', () => {
    const a = ok() as unknown as { spec: Record<string, unknown> };
    expectInvalid(() => validateResource({ ...a, spec: { ...a.spec, kind: 'StatefulSet' } }, 'r'), 'r.spec.kind: expected Deployment, DaemonSet, Job or CronJob');
    expectInvalid(() => validateResource({ ...a, spec: { ...a.spec, replicas: -1 } }, 'r'), 'r.spec.replicas: must be between 0 and 10000');
    expectInvalid(() => validateResource({ ...a, spec: { ...a.spec, replicas: '3' } }, 'r'), 'r.spec.replicas: expected a whole number');
    const noContainers = ok();
    noContainers.spec.template.containers = [];
    expectInvalid(() => validateResource(noContainers, 'r'), 'r.spec.template.containers: at least one container is required');
    const dup = ok();
    dup.spec.template.containers.push({ ...dup.spec.template.containers[0]! });
    expectInvalid(() => validateResource(dup, 'r'), 'r.spec.template.containers[1].name: duplicate container name "main"');
  });

  it('checks container fields, labels and data keys', () => {
    const env = ok();
    (env.spec.template.containers[0]!.env as unknown[]) = [{ name: 'A=B', value: 'x' }];
    expectInvalid(() => validateResource(env, 'r'), 'r.spec.template.containers[0].env[0].name');
    const mem = ok();
    (mem.spec.template.containers[0]!.resources as Record<string, unknown>) = { memoryBytes: 1.5 };
    expectInvalid(() => validateResource(mem, 'r'), 'r.spec.template.containers[0].resources.memoryBytes');
    const sel = ok();
    sel.spec.template.nodeSelector = { 'bad key!': 'x' };
    expectInvalid(() => validateResource(sel, 'r'), /r\.spec\.template\.nodeSelector\.bad key!: invalid key/);
    expectInvalid(() => validateResource({ kind: 'ConfigMap', meta: { name: 'c' }, data: { 'a/b': 'x' } }, 'r'), 'r.data.a/b: invalid key');
    expectInvalid(() => validateResource({ kind: 'Secret', meta: { name: 's' }, data: { a: 1 } }, 'r'), 'r.data.a: expected a string');
  });

  it('fills defaults, drops replicas of a DaemonSet and keeps only known fields', () => {
    const v = validateResource(
      {
        kind: 'App',
        meta: { name: 'agent', revision: 9 },
        spec: { kind: 'DaemonSet', replicas: 4, template: { containers: [{ name: 'a', image: 'busybox' }] } },
      },
      'r',
    ) as App;
    expect(v).toEqual({
      kind: 'App',
      meta: { name: 'agent', labels: {}, annotations: {} },
      spec: {
        kind: 'DaemonSet',
        template: {
          labels: {},
          annotations: {},
          nodeSelector: {},
          restartPolicy: 'Always',
          hostNetwork: false,
          containers: [{ name: 'a', image: 'docker.io/library/busybox:latest', env: [], resources: {} }],
        },
      },
    });
  });

  it('a __proto__ key stays data', () => {
    const v = validateResource(JSON.parse('{"kind":"ConfigMap","meta":{"name":"c"},"data":{"__proto__":"x"}}'), 'r') as ConfigMap;
    expect(Object.keys(v.data)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v.data)).toBe(Object.prototype);
  });
});

describe('server validation vs the CLI manifest parser', () => {
  it.each(['compose-two-services.yaml', 'daemonset-labelled.yaml', 'deployment-busybox.yaml', 'deployment-web.yaml'])(
    'accepts what the CLI makes of %s, unchanged',
    (file) => {
      const text = readFileSync(new URL(`../fixtures/manifests/${file}`, import.meta.url), 'utf8').replaceAll('REGISTRY', 'localhost:5000');
      const parsed = parseManifests(text, { file });
      // Over the wire as JSON, as the CLI sends it.
      const validated = validateResources(JSON.parse(JSON.stringify(parsed)));
      expect(validated.map(canonicalJson)).toEqual(parsed.map(canonicalJson));
    },
  );
});

describe('server validation: probes and rollout settings', () => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: { grove.io/auto-rollback: "false" }
spec:
  replicas: 2
  revisionHistoryLimit: 4
  progressDeadlineSeconds: 90
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 0, maxUnavailable: 50% } }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: busybox
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 2 }
          livenessProbe: { exec: { command: ["true"] } }
`;

  it('accepts what the CLI makes of a manifest with probes and a strategy, unchanged', () => {
    const parsed = parseManifests(text, { file: 'web.yaml' });
    const validated = validateResources(JSON.parse(JSON.stringify(parsed)));
    expect(validated.map(canonicalJson)).toEqual(parsed.map(canonicalJson));
    expect((validated[0] as App).spec).toMatchObject({ strategy: { maxUnavailable: '50%' }, autoRollback: false, revisionHistoryLimit: 4 });
  });

  it('rejects bad probes and strategies from the API with the field path', () => {
    const good = JSON.parse(JSON.stringify(parseManifests(text, { file: 'web.yaml' })))[0];
    const bad = (edit: (a: App) => void) => {
      const a = structuredClone(good) as App;
      edit(a);
      return () => validateResources([a]);
    };
    expectInvalid(bad((a) => ((a.spec.template.containers[0]!.probes!.readiness as { periodSeconds: number }).periodSeconds = 0)), /containers\[0\]\.probes\.readiness\.periodSeconds/);
    expectInvalid(bad((a) => (a.spec.strategy = { type: 'OnDelete' })), 'resources[0].spec.strategy.type: expected RollingUpdate or Recreate for a Deployment');
    expectInvalid(bad((a) => (a.spec.strategy = { type: 'RollingUpdate', maxSurge: '120%' })), /maxSurge: expected a whole number or a percentage/);
    expectInvalid(bad((a) => (a.spec.strategy = { type: 'Recreate', maxSurge: 1 })), /maxSurge: only applies to RollingUpdate/);
    expectInvalid(bad((a) => (a.spec.revisionHistoryLimit = 1000)), /revisionHistoryLimit: must be between 0 and 100/);
  });
});
