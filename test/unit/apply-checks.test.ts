/**
 * What the object apply checks across objects or with the server's settings, beyond each
 * object's schema and rules (the 0.1 API checked both; the switch to objects had lost them):
 * - `grove server --host-path-root` (docs/security.md): a hostPath volume outside every root
 *   refuses the apply, one cause per volume naming the object, the field, the path and the
 *   roots; no roots = any absolute path;
 * - start order (grove.io/depends-on): no workload waits for itself, no cycle in a namespace.
 */
import { describe, expect, it } from 'vitest';
import { isGroveError } from '../../src/core/errors.js';
import { isUnderRoot } from '../../src/core/host-path-roots.js';
import { applyObjects } from '../../src/server/k8s-api/apply.js';
import { ensureDefaultNamespace } from '../../src/server/objects/namespaces.js';
import { ObjectStore } from '../../src/server/objects/object-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { ManualClock } from '../support/manual-clock.js';

const deployment = (volumes: { name: string; hostPath: { path: string } }[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { volumes, containers: [{ name: 'c', image: 'busybox' }] } } },
});
const cronJob = (path: string) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'backup' },
  spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', volumes: [{ name: 'out', hostPath: { path } }], containers: [{ name: 'c', image: 'busybox' }] } } } } },
});

async function setup() {
  const objects = new ObjectStore({ store: new MemoryStore(), clock: new ManualClock() });
  await ensureDefaultNamespace(objects);
  return objects;
}

async function refusal(run: Promise<unknown>): Promise<{ message: string; causes: { field: string; message: string }[] }> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isGroveError(err)).toBe(true);
  return { message: (err as Error).message, causes: (err as { details: { causes: { field: string; message: string }[] } }).details.causes };
}

describe('hostPath roots on apply', () => {
  it('refuses hostPaths outside every root, naming the object, the field, the path and the roots', async () => {
    const objects = await setup();
    const roots = ['/srv', '/data'];
    const { causes } = await refusal(applyObjects(objects, { objects: [deployment([{ name: 'ok', hostPath: { path: '/srv/www' } }, { name: 'logs', hostPath: { path: '/var/log/app' } }]), cronJob('/etc')] }, { hostPathRoots: roots }));
    expect(causes).toEqual([
      { field: 'objects[0].spec.template.spec.volumes[1].hostPath.path', message: 'Deployment default/web: volume "logs" host path "/var/log/app" is outside the allowed roots (/srv, /data)' },
      { field: 'objects[1].spec.jobTemplate.spec.template.spec.volumes[0].hostPath.path', message: 'CronJob default/backup: volume "out" host path "/etc" is outside the allowed roots (/srv, /data)' },
    ]);
    expect((await objects.list('Deployment')).items).toEqual([]);
  });

  it('takes paths at or below a root, and anything without roots', async () => {
    const objects = await setup();
    const logs = deployment([{ name: 'logs', hostPath: { path: '/var/log/app' } }]);
    await expect(applyObjects(objects, { objects: [logs] }, { hostPathRoots: ['/var/log'] })).resolves.toMatchObject({ results: [{ action: 'created' }] });
    await expect(applyObjects(objects, { objects: [logs] }, { hostPathRoots: ['/var/lo'] })).rejects.toThrow('outside the allowed roots (/var/lo)');
    await expect(applyObjects(objects, { objects: [logs] })).resolves.toMatchObject({ results: [{ action: 'unchanged' }] });
  });

  it('isUnderRoot: the root itself and what is below it, not a sibling with the same prefix', () => {
    expect([isUnderRoot('/srv', '/srv'), isUnderRoot('/srv/a', '/srv/'), isUnderRoot('/srvx', '/srv'), isUnderRoot('/anything', '/')]).toEqual([true, true, false, true]);
  });
});

describe('start order across the objects of one apply', () => {
  const workload = (name: string, dependsOn?: string, namespace = 'default') => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, ...(dependsOn ? { annotations: { 'grove.io/depends-on': dependsOn } } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
  const field = (i: number) => `objects[${i}].spec.template.metadata.annotations["grove.io/depends-on"]`;

  it('refuses a cycle and a self-dependency, naming the annotation', async () => {
    const objects = await setup();
    const { causes } = await refusal(applyObjects(objects, { objects: [workload('a', 'b'), workload('b', 'c:healthy'), workload('c', 'a:completed')] }));
    expect(causes).toEqual([{ field: field(0), message: 'Deployment default/a: grove.io/depends-on forms a cycle: a → b → c → a' }]);
    const self = await refusal(applyObjects(objects, { objects: [workload('a', 'a')] }));
    expect(self.causes).toEqual([{ field: field(0), message: 'Deployment default/a: a workload cannot depend on itself' }]);
  });

  it('takes a chain, and the same names in two namespaces as two graphs', async () => {
    const objects = await setup();
    await objects.commit([{ op: 'put', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } } as never }]);
    await expect(applyObjects(objects, { objects: [workload('a', 'b'), workload('b'), workload('b', 'a', 'other'), workload('a', undefined, 'other')] })).resolves.toMatchObject({ results: [{ action: 'created' }, { action: 'created' }, { action: 'created' }, { action: 'created' }] });
  });
});
