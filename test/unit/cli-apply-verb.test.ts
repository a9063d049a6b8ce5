import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLY_OBJECTS_PATH } from '../../src/cli/client/apply-objects.js';
import { inNamespace } from '../../src/cli/verbs/client/apply.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { kubeStatus, type FakeApi } from './cli-k8s-fake-api.js';
import { applyAnswer, fakeGroveEachTest, type GroveHarness } from './cli-run-grove.js';

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`;

type Sent = { objects: { kind: string; metadata: { name: string; namespace?: string } }[]; dryRun?: boolean };

/** The server's answer: the first object unchanged, the rest created. */
const answer = applyAnswer((i) => (i === 0 ? 'unchanged' : 'created'));
const fake = fakeGroveEachTest();

async function setUp(route: (body: unknown) => [number, unknown] = answer): Promise<{ api: FakeApi; grove: GroveHarness; file: string }> {
  const { api, grove } = await fake({ [`POST ${APPLY_OBJECTS_PATH}`]: route });
  const file = join(grove.dir, 'app.yaml');
  await writeFile(file, MANIFEST);
  return { api, grove, file };
}

describe('grove apply', () => {
  it('sends every object of the files in one request and prints kubectl\'s lines', async () => {
    const { api, grove, file } = await setUp();
    expect(await grove.run(['apply', '-f', file])).toEqual({ code: 0, out: 'configmap/settings unchanged\ndeployment.apps/web created\n', err: '' });
    expect(api.seen).toHaveLength(1);
    const sent = api.seen[0]!.body as Sent;
    expect(sent.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/settings', 'Deployment/web']);
    expect(sent.dryRun).toBeUndefined();
  });

  it('-n fills the namespace of objects that name none; --dry-run=server says so', async () => {
    const { api, grove, file } = await setUp();
    const r = await grove.run(['apply', '-f', file, '-n', 'shop', '--dry-run=server']);
    expect(r.out).toBe('configmap/settings unchanged (server dry run)\ndeployment.apps/web created (server dry run)\n');
    const sent = api.seen[0]!.body as Sent;
    expect(sent.dryRun).toBe(true);
    expect(sent.objects.map((o) => o.metadata.namespace)).toEqual(['shop', 'shop']);
  });

  it('--dry-run=client -o yaml prints the objects and sends nothing', async () => {
    const { api, grove, file } = await setUp();
    const r = await grove.run(['apply', '-f', file, '--dry-run=client', '-o', 'yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('apiVersion: v1\nkind: List\n');
    expect(r.out).toContain('kind: Deployment');
    expect(api.seen).toEqual([]);
    expect((await grove.run(['apply', '-f', file, '-o', 'yaml'])).err).toMatch(/add --dry-run=client/);
  });

  it('a Status error prints each cause on a line, naming the file and document of the object; nothing half-applied is claimed', async () => {
    const causes = [
      { field: 'objects[1].spec.replicas', message: 'must be >= 0' },
      { field: 'objects', message: 'too many' },
    ];
    const status = { ...kubeStatus(422, 'Invalid', 'the apply is invalid: objects[1].spec.replicas: must be >= 0'), details: { causes } };
    const { grove, file } = await setUp(() => [422, status]);
    const r = await grove.run(['apply', '-f', file]);
    expect(r).toEqual({ code: 1, out: '', err: `grove: ${file} (document 2): spec.replicas: must be >= 0\ngrove: objects: too many\n` });
  });

  it('a Status error without causes prints its message', async () => {
    const { grove, file } = await setUp(() => [409, kubeStatus(409, 'Conflict', 'deployments.apps "web": the object has been modified')]);
    const r = await grove.run(['apply', '-f', file]);
    expect(r).toEqual({ code: 1, out: '', err: 'grove: deployments.apps "web": the object has been modified\n' });
  });

  it('a file with problems stops everything before any request', async () => {
    const { api, grove } = await setUp();
    const bad = join(grove.dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: -1}\n');
    const r = await grove.run(['apply', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml/);
    expect(api.seen).toEqual([]);
  });
});

describe('grove delete -f', () => {
  it('deletes what the files define, read as apply reads them', async () => {
    const { api, grove } = await fake({
      'DELETE /api/v1/namespaces/default/configmaps/settings': [200, {}],
      'DELETE /apis/apps/v1/namespaces/default/deployments/web': [200, {}],
    });
    const file = join(grove.dir, 'app.yaml');
    await writeFile(file, MANIFEST);
    expect(await grove.run(['delete', '-f', file])).toEqual({ code: 0, out: 'configmap "settings" deleted\ndeployment.apps "web" deleted\n', err: '' });
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['DELETE /api/v1/namespaces/default/configmaps/settings', 'DELETE /apis/apps/v1/namespaces/default/deployments/web']);
  });
});

describe('inNamespace', () => {
  const cm = (namespace?: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...(namespace ? { namespace } : {}) } }) as unknown as AnyObject;
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } as unknown as AnyObject;

  it('fills namespaced kinds only, keeps a matching namespace, refuses another one in kubectl\'s words', () => {
    expect(inNamespace([cm(), ns], 'shop')).toEqual([cm('shop'), ns]);
    expect(inNamespace([cm('shop')], 'shop')).toEqual([cm('shop')]);
    expect(inNamespace([cm('a')], undefined)).toEqual([cm('a')]);
    expect(() => inNamespace([cm('a')], 'b')).toThrow('the namespace from the provided object "a" does not match the namespace "b". You must pass \'--namespace=a\' to perform this operation.');
  });
});
