import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnyObject } from '../../src/core/objects/changes.js';
import type { PodSpec } from '../../src/core/objects/pod.js';
import type { WirePodTarget } from '../../src/core/objects/wire.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeConfigMessage, openConfigBundle } from '../../src/core/wire-config.js';
import { collectConfigRefs, type ConfigObject, type ReferencingPod } from '../../src/core/config-refs.js';
import { bundleDigest, ConfigDistributor, podConfigRefs, type ConfigPlanInput } from '../../src/server/config-distributor.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { createHmac } from 'node:crypto';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { newNodeKey } from '../../src/server/node-keys.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { fixtureClock } from './server-fixtures.js';

/** A pod's references as collectConfigRefs reads them (one plain container unless told otherwise). */
function template(t: object): ReferencingPod {
  return { containers: [{ env: [] }], ...t } as ReferencingPod;
}

describe('collectConfigRefs', () => {
  it('finds volumes, env valueFrom and envFrom of containers and init containers, once each, sorted', () => {
    const main = { env: [] };
    const refs = collectConfigRefs([
      template({
        volumes: [
          { name: 'a', secret: { secretName: 'tls' } },
          { name: 'b', configMap: { name: 'nginx-conf' } },
          { name: 'c', emptyDir: {} },
        ],
        initContainers: [{ ...main, name: 'init', env: [{ name: 'P', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
        containers: [{ ...main, envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'db' }, prefix: 'DB_' }] }],
      }),
      template({ containers: [{ ...main, env: [{ name: 'L', value: '', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level', optional: true } } }] }] }),
    ]);
    expect(refs).toEqual([
      { kind: 'ConfigMap', name: 'nginx-conf' },
      { kind: 'ConfigMap', name: 'settings' },
      { kind: 'Secret', name: 'db' },
      { kind: 'Secret', name: 'tls' },
    ]);
    expect(collectConfigRefs([template({})])).toEqual([]);
  });
});

describe('ConfigDistributor', () => {
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');
  const secret = (name: string, data: Record<string, string>, namespace = 'default') =>
    ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) }) as unknown as AnyObject;
  const configMap = (name: string, data: Record<string, string>, namespace = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }) as unknown as AnyObject;
  const podTarget = (name: string, spec: Partial<PodSpec>, namespace = 'default'): WirePodTarget => ({
    name,
    namespace,
    uid: `uid-${name}`,
    templateHash: 'h1',
    owner: { kind: 'Pod', name, uid: `uid-${name}` },
    spec: { containers: [{ name: 'main', image: 'nginx:1' }], ...spec } as PodSpec,
  });

  async function setup() {
    const store = new MemoryStore();
    await store.open();
    const objects = new ObjectStore({ store, clock: fixtureClock() });
    await ensureDefaultNamespace(objects);
    const published: { topic: string; payload: Buffer }[] = [];
    const keys = new Map<string, Buffer>();
    for (const n of ['node-a', 'node-b']) {
      const k = newNodeKey(n, new Date());
      keys.set(n, k.key);
      await store.commit([k.op]);
    }
    const web = podTarget('web-1', {
      volumes: [{ name: 'conf', configMap: { name: 'settings' } }],
      containers: [{ name: 'main', image: 'nginx:1', env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
    } as Partial<PodSpec>);
    await objects.commit([secret('db', { password: 'hunter2' }), secret('unused', { x: 'not-for-anyone' }), configMap('settings', { level: 'debug' })].map((object) => ({ op: 'put' as const, object })));
    const distributor = new ConfigDistributor({ objects, cluster: 'c1', logger: silentLogger(), publish: async (topic, payload) => void published.push({ topic, payload }) });
    let nodes = ['node-a', 'node-b'];
    const input = (republishAll = false): ConfigPlanInput => ({
      nodes,
      pods: new Map([
        ['node-a', [web]],
        ['node-b', [podTarget('plain-1', {})]],
      ]),
      republishAll,
      now: '2026-01-01T00:00:00.000Z',
    });
    const pass = async (republishAll = false) => {
      published.length = 0;
      await distributor.publish(await distributor.plan(input(republishAll)));
      return published.slice();
    };
    const put = (object: AnyObject) => objects.commit([{ op: 'put', object }]);
    return { store, objects, put, keys, pass, distributor, dropNode: (n: string) => (nodes = nodes.filter((x) => x !== n)) };
  }

  it('takes each reference in the namespace of the pod that makes it', () => {
    const refs = podConfigRefs([
      podTarget('a', { volumes: [{ name: 'c', configMap: { name: 'settings' } }] } as Partial<PodSpec>, 'team-b'),
      podTarget('b', { volumes: [{ name: 'c', configMap: { name: 'settings' } }] } as Partial<PodSpec>),
    ]);
    expect(refs).toEqual([
      { kind: 'ConfigMap', name: 'settings', namespace: 'default' },
      { kind: 'ConfigMap', name: 'settings', namespace: 'team-b' },
    ]);
  });

  it('sends each namespace\'s object under its namespace (default ones as before), with a digest that tells them apart', async () => {
    const { keys, put, distributor } = await setup();
    await put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } } as unknown as AnyObject);
    await put(configMap('settings', { level: 'team-b' }, 'team-b'));
    const pods = [podTarget('a', { volumes: [{ name: 'c', configMap: { name: 'settings' } }] } as Partial<PodSpec>, 'team-b'), podTarget('b', { volumes: [{ name: 'c', configMap: { name: 'settings' } }] } as Partial<PodSpec>)];
    const [p] = await distributor.plan({ nodes: ['node-a'], pods: new Map([['node-a', pods]]), republishAll: false, now: '2026-01-01T00:00:00.000Z' });
    expect(p!.objects.map((o) => [o.kind, o.namespace, o.name, o.data])).toEqual([
      ['ConfigMap', undefined, 'settings', { level: 'debug' }],
      ['ConfigMap', 'team-b', 'settings', { level: 'team-b' }],
    ]);
    const key = keys.get('node-a')!;
    const hashed = (o: ConfigObject, hash = 'h') => ({ object: o, hash });
    // A bundle of default objects keeps the digest it had before namespaces (no republish after an upgrade).
    const defaults = [hashed(p!.objects[0]!)];
    const before = createHmac('sha256', key).update(canonicalJson(defaults.map((o) => [o.object.kind, o.object.name, o.object.version, o.hash]))).digest('hex');
    expect(bundleDigest(key, defaults)).toBe(before);
    const { namespace: _ns, ...sameNameInDefault } = p!.objects[1]!;
    expect(bundleDigest(key, [hashed(p!.objects[1]!)])).not.toBe(bundleDigest(key, [hashed(sameNameInDefault)]));
  });

  it('sends a node only what its pods reference, encrypted for it; nothing is written when nothing changed', async () => {
    const { store, keys, pass } = await setup();
    const first = await pass();
    // node-b references nothing: no bundle at all.
    expect(first.map((p) => p.topic)).toEqual(['grove/v1/c1/nodes/node-a/config']);
    expect(first[0]!.payload.includes(Buffer.from('hunter2'))).toBe(false);
    const bundle = openConfigBundle(decodeConfigMessage(first[0]!.payload), keys.get('node-a')!);
    expect(bundle.objects.map((o) => [o.kind, o.name, o.data])).toEqual([
      ['ConfigMap', 'settings', { level: 'debug' }],
      ['Secret', 'db', { password: 'hunter2' }],
    ]);
    // Another node's key does not open it.
    expect(() => openConfigBundle(decodeConfigMessage(first[0]!.payload), keys.get('node-b')!)).toThrow();
    const revision = store.revision();
    expect(await pass()).toEqual([]);
    expect(store.revision()).toBe(revision);
    // After a broker restart everything goes out again, same revision, still no write.
    const again = await pass(true);
    expect(decodeConfigMessage(again[0]!.payload).revision).toBe(bundle.revision);
    expect(store.revision()).toBe(revision);
  });

  it('republishes when a referenced object changes, not when an unreferenced one does', async () => {
    const { keys, pass, put } = await setup();
    const first = decodeConfigMessage((await pass())[0]!.payload);
    await put(secret('unused', { x: 'changed' }));
    expect(await pass()).toEqual([]);
    await put(secret('db', { password: 'correct-horse' }));
    const next = await pass();
    expect(next).toHaveLength(1);
    const bundle = openConfigBundle(decodeConfigMessage(next[0]!.payload), keys.get('node-a')!);
    expect(bundle.revision).toBeGreaterThan(first.revision);
    expect(bundle.objects.find((o) => o.name === 'db')!.data).toEqual({ password: 'correct-horse' });
  });

  it('a node whose key rotated (rejoin) gets its bundle again under the new key', async () => {
    const { store, pass } = await setup();
    await pass();
    const fresh = newNodeKey('node-a', new Date());
    await store.commit([fresh.op]);
    const next = await pass();
    expect(openConfigBundle(decodeConfigMessage(next[0]!.payload), fresh.key).objects).toHaveLength(2);
  });

  it('a deleted object leaves the bundle; a removed node has its retained bundle cleared and its record deleted', async () => {
    const { store, objects, keys, pass, dropNode } = await setup();
    await pass();
    await objects.commit([{ op: 'delete', ref: { kind: 'Secret', namespace: 'default', name: 'db' } }]);
    const next = await pass();
    expect(openConfigBundle(decodeConfigMessage(next[0]!.payload), keys.get('node-a')!).objects.map((o) => o.name)).toEqual(['settings']);
    expect(await store.get('grove/config/node-a')).toBeDefined();
    dropNode('node-a');
    const cleared = await pass();
    expect(cleared).toEqual([{ topic: 'grove/v1/c1/nodes/node-a/config', payload: Buffer.alloc(0) }]);
    expect(await store.get('grove/config/node-a')).toBeUndefined();
  });
});
