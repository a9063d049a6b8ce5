/**
 * The behaviour of the ObjectStore (src/server/objects/object-store.ts) whatever Store it runs
 * on: each Store implementation's test calls objectStoreContract with a factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import type { AnyObject, ObjectChange } from '../../src/core/objects/changes.js';
import type { Store } from '../../src/store/store.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { parseSelector } from '../../src/server/objects/label-selector.js';
import { ManualClock } from '../support/manual-clock.js';

export interface ObjectStoreFixture {
  /** Not yet opened. */
  store: Store;
  cleanup(): Promise<void>;
}

export function namespace(name: string): AnyObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as AnyObject;
}

export function deployment(name: string, o: { image?: string; replicas?: number; labels?: Record<string, string>; namespace?: string } = {}): AnyObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: o.namespace ?? 'default', ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: o.image ?? 'nginx:1.27' }] } },
    },
  } as AnyObject;
}

export function configMap(name: string, data: Record<string, string>, namespace = 'default'): AnyObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data } as AnyObject;
}

const put = (object: AnyObject): ObjectChange => ({ op: 'put', object });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export function objectStoreContract(name: string, make: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: Store;
    let objects: ObjectStore;
    let clock: ManualClock;
    let uids: number;

    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
      await store.open();
      clock = new ManualClock(Date.parse('2025-03-01T10:00:00.250Z'));
      uids = 0;
      objects = new ObjectStore({ store, clock, newUid: () => `uid-${++uids}` });
      await objects.commit([put(namespace('default'))]);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('creates with uid, creationTimestamp, generation 1 and the revision as resourceVersion', async () => {
      const result = await objects.commit([put(deployment('web'))]);
      expect(result.results.map((r) => r.outcome)).toEqual(['created']);
      const web = await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' });
      expect(web?.metadata).toMatchObject({ name: 'web', namespace: 'default', uid: 'uid-2', generation: 1, creationTimestamp: '2025-03-01T10:00:00Z', resourceVersion: String(result.revision) });
      // Stored without resourceVersion: it is the entry's revision.
      const raw = await store.get<AnyObject>('deployments/default/web');
      expect(raw?.value.metadata.resourceVersion).toBeUndefined();
      // Defaulted, schema and code defaults alike.
      expect(web?.spec.strategy?.type).toBe('RollingUpdate');
      expect(web?.spec.template.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    });

    it('writes nothing for a put equal to what is stored, whatever its key order', async () => {
      await objects.commit([put(deployment('web'))]);
      const before = store.revision();
      const d = deployment('web') as unknown as Record<string, unknown>;
      const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as AnyObject;
      const again = await objects.commit([put(reordered)]);
      expect(again.results[0]?.outcome).toBe('unchanged');
      expect(store.revision()).toBe(before);
      expect(again.revision).toBe(before);
    });

    it('keeps uid and creationTimestamp on update and moves generation only when the spec changes', async () => {
      await objects.commit([put(deployment('web'))]);
      clock.advance(60_000);
      const labelled = await objects.commit([put(deployment('web', { labels: { tier: 'front' } }))]);
      expect(labelled.results[0]?.outcome).toBe('configured');
      expect(labelled.results[0]?.object?.metadata).toMatchObject({ uid: 'uid-2', generation: 1, creationTimestamp: '2025-03-01T10:00:00Z', labels: { tier: 'front' } });
      const scaled = await objects.commit([put(deployment('web', { replicas: 3, labels: { tier: 'front' } }))]);
      expect(scaled.results[0]?.object?.metadata.generation).toBe(2);
    });

    it('ignores the uid, creationTimestamp and generation a create names, except a decider-chosen uid', async () => {
      const d = deployment('web') as unknown as { metadata: Record<string, unknown> };
      d.metadata.generation = 7;
      d.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
      d.metadata.uid = 'chosen';
      const r = await objects.commit([put(d as unknown as AnyObject)]);
      expect(r.results[0]?.object?.metadata).toMatchObject({ uid: 'chosen', generation: 1, creationTimestamp: '2025-03-01T10:00:00Z' });
    });

    it('refuses a stale resourceVersion and a wrong uid with Conflict, writing nothing', async () => {
      const first = await objects.commit([put(deployment('web'))]);
      const stale = structuredClone(first.results[0]!.object!) as AnyObject;
      await objects.commit([put(deployment('web', { replicas: 2 }))]);
      const before = store.revision();
      const err = await rejection(objects.commit([put(configMap('other', { a: '1' })), put(stale)]));
      expect(isGroveError(err, ErrorCode.Conflict)).toBe(true);
      expect(store.revision()).toBe(before);
      expect(await objects.get({ kind: 'ConfigMap', namespace: 'default', name: 'other' })).toBeUndefined();
      const current = (await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' }))!;
      expect((await objects.commit([put(current)])).results[0]?.outcome).toBe('unchanged');
      const wrongUid = { ...current, metadata: { ...current.metadata, uid: 'someone-else', resourceVersion: undefined } } as unknown as AnyObject;
      expect(isGroveError(await rejection(objects.commit([put(wrongUid)])), ErrorCode.Conflict)).toBe(true);
    });

    it('puts never write status; status changes keep the spec and generation', async () => {
      await objects.commit([put(deployment('web'))]);
      const ref = { kind: 'Deployment', namespace: 'default', name: 'web' } as const;
      const s = await objects.commit([{ op: 'status', ref, status: { replicas: 1, readyReplicas: 1 } }]);
      expect(s.results[0]?.outcome).toBe('configured');
      const withStatus = { ...deployment('web', { replicas: 2 }), status: { replicas: 99 } } as AnyObject;
      await objects.commit([put(withStatus)]);
      const web = (await objects.get(ref))!;
      expect(web.status).toEqual({ replicas: 1, readyReplicas: 1 });
      expect(web.spec.replicas).toBe(2);
      const rev = store.revision();
      expect((await objects.commit([{ op: 'status', ref, status: { readyReplicas: 1, replicas: 1 } }])).results[0]?.outcome).toBe('unchanged');
      expect(store.revision()).toBe(rev);
      expect((await objects.get(ref))!.metadata.generation).toBe(2);
    });

    it('a status for a missing object and a delete of a missing object change nothing', async () => {
      const r = await objects.commit([
        { op: 'status', ref: { kind: 'Pod', namespace: 'default', name: 'gone' }, status: { phase: 'Running' } },
        { op: 'delete', ref: { kind: 'ConfigMap', namespace: 'default', name: 'gone' } },
      ]);
      expect(r.results.map((x) => x.outcome)).toEqual(['absent', 'absent']);
    });

    it('applies many changes in ONE commit, in order (create then status of the same object)', async () => {
      const before = store.revision();
      const r = await objects.commit([put(namespace('shop')), put(deployment('web', { namespace: 'shop' })), { op: 'status', ref: { kind: 'Deployment', namespace: 'shop', name: 'web' }, status: { replicas: 0 } }, put(configMap('c', { k: 'v' }, 'shop'))]);
      expect(r.revision).toBe(before + 1);
      expect(r.results.map((x) => x.outcome)).toEqual(['created', 'created', 'configured', 'created']);
      expect((await objects.get({ kind: 'Deployment', namespace: 'shop', name: 'web' }))?.status).toEqual({ replicas: 0 });
    });

    it('refuses an invalid object with every problem as a cause', async () => {
      const bad = { ...deployment('web'), spec: { replicas: -1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } } as unknown as AnyObject;
      const err = await rejection(objects.commit([put(bad)]));
      expect(isGroveError(err, ErrorCode.InvalidArgument)).toBe(true);
      const causes = (err as { details: { causes: { field: string }[] } }).details.causes;
      expect(causes.map((c) => c.field)).toEqual(expect.arrayContaining(['spec.replicas']));
      expect(causes.length).toBeGreaterThanOrEqual(2);
    });

    it('an immutable ConfigMap applies again unchanged but never changes; a Secret keeps its type', async () => {
      const frozen = { ...configMap('frozen', { a: '1' }), immutable: true } as AnyObject;
      await objects.commit([put(frozen)]);
      expect((await objects.commit([put(frozen)])).results[0]?.outcome).toBe('unchanged');
      const err = await rejection(objects.commit([put({ ...configMap('frozen', { a: '2' }), immutable: true } as AnyObject)]));
      expect(isGroveError(err, ErrorCode.InvalidArgument)).toBe(true);
      expect((err as Error).message).toContain('immutable');
      const secret = (type: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type, data: { username: 'dQ==' } }) as unknown as AnyObject;
      await objects.commit([put(secret('Opaque'))]);
      const retyped = await rejection(objects.commit([put(secret('kubernetes.io/basic-auth'))]));
      expect((retyped as Error).message).toContain('type: field is immutable');
    });

    it('creates a namespaced object only in an existing namespace', async () => {
      const err = await rejection(objects.commit([put(configMap('c', { a: 'b' }, 'nowhere'))]));
      expect(isGroveError(err, ErrorCode.NotFound)).toBe(true);
    });

    it('deleting a Namespace marks it Terminating, refuses new objects in it, and removes it once empty', async () => {
      await objects.commit([put(namespace('shop')), put(configMap('c', { a: 'b' }, 'shop'))]);
      clock.advance(5000);
      const marked = await objects.commit([{ op: 'delete', ref: { kind: 'Namespace', name: 'shop' } }]);
      expect(marked.results[0]?.outcome).toBe('marked');
      const ns = await objects.get({ kind: 'Namespace', name: 'shop' });
      expect(ns?.metadata.deletionTimestamp).toBe('2025-03-01T10:00:05Z');
      expect(ns?.status?.phase).toBe('Terminating');
      expect(isGroveError(await rejection(objects.commit([put(configMap('d', { a: 'b' }, 'shop'))])), ErrorCode.PermissionDenied)).toBe(true);
      // An existing object in it may still change (controllers finish their work).
      expect((await objects.commit([put(configMap('c', { a: 'c' }, 'shop'))])).results[0]?.outcome).toBe('configured');
      expect((await objects.commit([{ op: 'delete', ref: { kind: 'Namespace', name: 'shop' } }])).results[0]?.outcome).toBe('unchanged');
      const gone = await objects.commit([
        { op: 'delete', ref: { kind: 'ConfigMap', namespace: 'shop', name: 'c' } },
        { op: 'delete', ref: { kind: 'Namespace', name: 'shop' } },
      ]);
      expect(gone.results.map((x) => x.outcome)).toEqual(['deleted', 'deleted']);
      expect(await objects.get({ kind: 'Namespace', name: 'shop' })).toBeUndefined();
    });

    it('never deletes the default namespace', async () => {
      expect(isGroveError(await rejection(objects.commit([{ op: 'delete', ref: { kind: 'Namespace', name: 'default' } }])), ErrorCode.PermissionDenied)).toBe(true);
    });

    it('labels a Namespace with its name and gives it phase Active', async () => {
      const ns = await objects.get({ kind: 'Namespace', name: 'default' });
      expect(ns?.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'default' });
      expect(ns?.status).toEqual({ phase: 'Active' });
    });

    it('lists by kind, namespace and label selector, with resourceVersions', async () => {
      await objects.commit([
        put(namespace('shop')),
        put(deployment('a', { labels: { tier: 'web', env: 'prod' } })),
        put(deployment('b', { labels: { tier: 'db' } })),
        put(deployment('c', { namespace: 'shop', labels: { tier: 'web' } })),
        put(configMap('cfg', { k: 'v' })),
      ]);
      const names = (l: { items: AnyObject[] }) => l.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
      expect(names(await objects.list('Deployment'))).toEqual(['default/a', 'default/b', 'shop/c']);
      expect(names(await objects.list('Deployment', { namespace: 'default' }))).toEqual(['default/a', 'default/b']);
      expect(names(await objects.list('Deployment', { selector: parseSelector('tier=web') }))).toEqual(['default/a', 'shop/c']);
      expect(names(await objects.list('Deployment', { selector: parseSelector('tier in (web,db),!env') }))).toEqual(['default/b', 'shop/c']);
      const all = await objects.list('Deployment');
      expect(all.revision).toBe(store.revision());
      expect(all.items.every((i) => i.metadata.resourceVersion === String(store.revision()))).toBe(true);
    });

    it('refuses an object larger than the limit', async () => {
      const small = new ObjectStore({ store, clock, maxObjectBytes: 2048 });
      const err = await rejection(small.commit([put(configMap('big', { blob: 'x'.repeat(4096) }))]));
      expect(isGroveError(err, ErrorCode.SizeLimit)).toBe(true);
    });

    it('dry run decides and writes nothing', async () => {
      const before = store.revision();
      const r = await objects.commit([put(deployment('web'))], { dryRun: true });
      expect(r.results[0]?.outcome).toBe('created');
      expect(store.revision()).toBe(before);
      expect(await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' })).toBeUndefined();
    });

    it('reads a 0.1 record under an object key as absent, and never deletes it', async () => {
      await store.commit([
        { type: 'put', key: 'nodes/pi-1', value: { kind: 'Node', meta: { name: 'pi-1' }, cordoned: false } },
        { type: 'put', key: 'pods/web-abc12', value: { name: 'web-abc12', app: 'web' } },
      ]);
      expect(await objects.get({ kind: 'Node', name: 'pi-1' })).toBeUndefined();
      expect((await objects.list('Node')).items).toEqual([]);
      expect((await objects.list('Pod')).items).toEqual([]);
      expect((await objects.commit([{ op: 'delete', ref: { kind: 'Node', name: 'pi-1' } }])).results[0]?.outcome).toBe('absent');
      expect(await store.get('nodes/pi-1')).toBeDefined();
    });

    it('tells watchers about object commits only', async () => {
      const seen: number[] = [];
      objects.watch((c) => seen.push(c.revision));
      await store.commit([{ type: 'put', key: 'grove/meta/cluster', value: 'x' }]);
      const r = await objects.commit([put(configMap('c', { a: 'b' }))]);
      expect(seen).toEqual([r.revision]);
    });
  });
}
