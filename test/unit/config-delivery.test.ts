import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App, PodTemplate } from '../../src/core/model.js';
import { silentLogger } from '../../src/core/logger.js';
import { decodeConfigMessage, openConfigBundle } from '../../src/core/wire-config.js';
import { collectConfigRefs } from '../../src/core/config-refs.js';
import { ConfigDistributor, type ConfigPlanInput } from '../../src/server/config-distributor.js';
import { newNodeKey } from '../../src/server/node-keys.js';
import { applyResources } from '../../src/server/resources.js';
import { indexApps, templateHash } from '../../src/server/targets.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { app, pod } from './server-fixtures.js';

function template(t: Partial<PodTemplate>): PodTemplate {
  return { ...app('x').spec.template, ...t };
}

describe('collectConfigRefs', () => {
  it('finds volumes, env valueFrom and envFrom of containers and init containers, once each, sorted', () => {
    const main = app('x').spec.template.containers[0]!;
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
  async function setup() {
    const store = new MemoryStore();
    await store.open();
    const published: { topic: string; payload: Buffer }[] = [];
    const keys = new Map<string, Buffer>();
    for (const n of ['node-a', 'node-b']) {
      const k = newNodeKey(n, new Date());
      keys.set(n, k.key);
      await store.commit([k.op]);
    }
    const web: App = app('web');
    web.spec.template.volumes = [{ name: 'conf', configMap: { name: 'settings' } }];
    web.spec.template.containers[0]!.env.push({ name: 'PW', value: '', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } });
    await applyResources(store, [
      { kind: 'Secret', meta: { name: 'db' }, data: { password: 'hunter2' } },
      { kind: 'Secret', meta: { name: 'unused' }, data: { x: 'not-for-anyone' } },
      { kind: 'ConfigMap', meta: { name: 'settings' }, data: { level: 'debug' } },
    ], new Date());
    const apps = [web, app('plain')];
    const distributor = new ConfigDistributor({ store, cluster: 'c1', logger: silentLogger(), publish: async (topic, payload) => void published.push({ topic, payload }) });
    let nodes = ['node-a', 'node-b'];
    const input = (republishAll = false): ConfigPlanInput => ({
      nodes,
      byNode: new Map([
        ['node-a', [pod('web-1', 'web', 'node-a', templateHash(web))]],
        ['node-b', [pod('plain-1', 'plain', 'node-b', templateHash(apps[1]!))]],
      ]),
      apps: indexApps(apps),
      republishAll,
      now: '2026-01-01T00:00:00.000Z',
    });
    const pass = async (republishAll = false) => {
      published.length = 0;
      await distributor.publish(await distributor.plan(input(republishAll)));
      return published.slice();
    };
    return { store, keys, pass, distributor, dropNode: (n: string) => (nodes = nodes.filter((x) => x !== n)) };
  }

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
    const { store, keys, pass } = await setup();
    const first = decodeConfigMessage((await pass())[0]!.payload);
    await applyResources(store, [{ kind: 'Secret', meta: { name: 'unused' }, data: { x: 'changed' } }], new Date());
    expect(await pass()).toEqual([]);
    await applyResources(store, [{ kind: 'Secret', meta: { name: 'db' }, data: { password: 'correct-horse' } }], new Date());
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
    const { store, keys, pass, dropNode } = await setup();
    await pass();
    await store.commit([{ type: 'delete', key: 'secrets/db' }]);
    const next = await pass();
    expect(openConfigBundle(decodeConfigMessage(next[0]!.payload), keys.get('node-a')!).objects.map((o) => o.name)).toEqual(['settings']);
    expect(await store.get('grove/config/node-a')).toBeDefined();
    dropNode('node-a');
    const cleared = await pass();
    expect(cleared).toEqual([{ topic: 'grove/v1/c1/nodes/node-a/config', payload: Buffer.alloc(0) }]);
    expect(await store.get('grove/config/node-a')).toBeUndefined();
  });
});
