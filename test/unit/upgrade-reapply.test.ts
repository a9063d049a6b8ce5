/**
 * Upgrade, then re-apply: a 0.1 store migrated at start (test/fixtures/migrate, a real 0.1
 * store) and then the very manifests 0.1 was given (test/fixtures/migrate/manifests, as
 * `grove apply -f` reads them now) must not roll anything: the client now stores images and
 * quantities as written (`nginx:1.27`, `0.1`) where the migration wrote 0.1's canonical forms
 * (`docker.io/library/nginx:1.27`, `100m`), and the Deployment and DaemonSet controllers must
 * take those templates as the same. One pass of every controller: no Pod created or deleted, no
 * ReplicaSet or ControllerRevision made. And the first passes after the upgrade, before any node
 * has reported, must not move anything either.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { decodeBackup } from '../../src/store/backup.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreOp } from '../../src/store/store.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { emptyObjects, type ObjectsByKind } from '../../src/server/controllers/controller.js';
import { groveControllers, nodeTargetsByNode, OwnerIndex } from '../../src/server/controllers/index.js';
import { applyObjects } from '../../src/server/k8s-api/apply.js';
import { upgradeStoreAtStart } from '../../src/server/migrate/upgrade-store.js';
import { ControllerLoop } from '../../src/server/objects/controller-loop.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { SealedStore } from '../../src/server/sealed-store.js';
import { REPO_ROOT } from '../support/grove-cli.js';
import { ManualClock } from '../support/manual-clock.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'migrate');
const backup = decodeBackup(readFileSync(join(FIXTURES, '0.1-store.backup')));
const secretKey = readFileSync(join(FIXTURES, '0.1-secrets.key'));
/** As make-fixture.mjs applied them last (web was updated to 1.27). */
const MANIFESTS = ['k8s/web.yaml', 'k8s/sensors.yaml', 'k8s/backup.yaml', 'homelab/compose.yaml'];

function manifestFiles() {
  return MANIFESTS.map((name) => ({
    path: name,
    text: readFileSync(join(FIXTURES, 'manifests', name), 'utf8').replaceAll('{{version}}', '1.27'),
    dir: join('/srv', name, '..'),
  }));
}

async function migratedCluster() {
  const store = new MemoryStore();
  await store.open();
  await store.commit(backup.entries.map((e): StoreOp => ({ type: 'put', key: e.key, value: e.value })));
  let n = 0;
  expect(await upgradeStoreAtStart(store, { secretKey, context: { now: new Date('2030-01-01T00:00:00Z'), newUid: () => `u${++n}` }, log: silentLogger() })).toBe('migrated');
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:10Z'));
  // As the server opens it: Secrets sealed at rest (the migration sealed them with this key).
  const objects = new ObjectStore({ store: new SealedStore(store, secretKey), clock });
  let suffix = 0;
  const loop = new ControllerLoop({ objects, controllers: groveControllers(), clock, logger: silentLogger(), randomSuffix: () => `zz${String(++suffix).padStart(3, '2')}` });
  return { objects, loop, clock };
}

async function names(objects: ObjectStore, kind: 'Pod' | 'ReplicaSet' | 'ControllerRevision'): Promise<string[]> {
  return (await objects.list(kind)).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
}

async function inventory(objects: ObjectStore) {
  return { pods: await names(objects, 'Pod'), replicaSets: await names(objects, 'ReplicaSet'), revisions: await names(objects, 'ControllerRevision') };
}

/** What each node is sent (its schema-2 target's pods): the same means nothing restarts there. */
async function nodeTargets(objects: ObjectStore): Promise<string> {
  const all = emptyObjects() as { -readonly [K in keyof ObjectsByKind]: ObjectsByKind[K] };
  for (const kind of Object.keys(all) as (keyof ObjectsByKind)[]) (all as Record<string, unknown>)[kind] = (await objects.list(kind)).items.map(({ metadata: { resourceVersion: _rv, ...m }, ...o }) => ({ ...o, metadata: m }));
  return canonicalJson([...nodeTargetsByNode(all.Pod, new OwnerIndex(all))]);
}

describe('the first start after the upgrade', () => {
  it('creates and deletes no Pod before the nodes report (their own labels were never stored by 0.1)', async () => {
    const { objects, loop } = await migratedCluster();
    const before = await inventory(objects);
    for (let i = 0; i < 3; i++) await loop.runOnce();
    expect(await inventory(objects)).toEqual(before);
    // The 0.1 labels set through the API are kept as such (a node's first report keeps them).
    const node = await objects.get({ kind: 'Node', name: 'hollow-0' });
    expect(node?.metadata.annotations?.['grove.io/api-labels']).toBe('accelerator,zone');
  });
});

describe('re-applying the 0.1 manifests after the upgrade', () => {
  it('creates and deletes no Pod, and makes no ReplicaSet or ControllerRevision; the workloads keep what was applied', async () => {
    const { objects, loop } = await migratedCluster();
    // 0.1 ran every compose project in `default`; now a project gets a namespace of its own, so
    // its file is re-applied with `-n default` (docs/networking.md#compose-networking, "Upgrading").
    const { objects: applied, problems } = manifestsToObjects(manifestFiles(), { composeNamespace: 'default' });
    expect(problems).toEqual([]);
    await loop.runOnce();
    const before = await inventory(objects);
    const targets = await nodeTargets(objects);
    const reply = await applyObjects(objects, { objects: applied });
    // Textual, as kubectl's: the stored spelling differs, so the workloads are "configured".
    expect(reply.results.find((r) => r.name === 'web')?.action).toBe('configured');
    expect(reply.results.filter((r) => r.kind === 'Secret' || r.kind === 'ConfigMap').map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    for (let i = 0; i < 3; i++) await loop.runOnce();
    expect(await inventory(objects)).toEqual(before);
    expect(await nodeTargets(objects)).toBe(targets);
    const web = await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' });
    expect(web?.spec.template.spec.containers[0]!.image).toBe('nginx:1.27');
    const sensors = await objects.get({ kind: 'DaemonSet', namespace: 'default', name: 'sensor-reader' });
    expect(sensors?.spec.template.spec.containers[0]!.resources?.limits?.cpu).toBe('0.1');
  });

  it('an update that then makes no progress rolls back to the migrated revision (grove.io/rollout-complete)', async () => {
    const { objects, loop, clock } = await migratedCluster();
    await loop.runOnce();
    const files = manifestFiles().filter((f) => f.path === 'k8s/web.yaml').map((f) => ({ ...f, text: f.text.replace('image: nginx:1.27', 'image: nginx:9.99') }));
    await applyObjects(objects, { objects: manifestsToObjects(files).objects });
    // No node reports: no pod of either revision is ready, the rollout moves what it may, then stalls.
    for (let i = 0; i < 10; i++) await loop.runOnce();
    expect((await names(objects, 'ReplicaSet')).filter((n) => n.startsWith('default/web-'))).toHaveLength(3);
    clock.advance(601_000);
    for (let i = 0; i < 3; i++) await loop.runOnce();
    const web = (await objects.get({ kind: 'Deployment', namespace: 'default', name: 'web' }))!;
    expect(web.spec.template.spec.containers[0]!.image).toBe('docker.io/library/nginx:1.27');
    expect(web.metadata.annotations?.['grove.io/last-rollback']).toMatch(/^revision 3 → 2 at /);
    const current = (await objects.get({ kind: 'ReplicaSet', namespace: 'default', name: 'web-8edb989c8b0c24e8' }))!;
    expect(current.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
  });
});
