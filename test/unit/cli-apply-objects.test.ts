import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/client/api-client.js';
import { APPLY_OBJECTS_PATH, applyObjects, applyResultLine, refusalWithSources } from '../../src/cli/client/apply-objects.js';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

interface Seen {
  method?: string;
  url?: string;
  authorization?: string;
  body?: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A local fake of the server's apply route: records the request, answers with `reply`. */
async function fakeServer(reply: (body: { objects: { kind: string; metadata: { name: string; namespace?: string } }[] }) => { status: number; json: unknown }): Promise<{ client: ApiClient; seen: Seen }> {
  const seen: Seen = {};
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.method = req.method;
      seen.url = req.url;
      seen.authorization = req.headers.authorization;
      seen.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const { status, json } = reply(seen.body as never);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { client: new ApiClient({ apiUrl: `http://127.0.0.1:${port}`, token: 'admin-token' }), seen };
}

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`;

function objects() {
  const r = manifestsToObjects([{ path: 'm.yaml', text: MANIFEST }]);
  expect(r.problems).toEqual([]);
  return r.objects;
}

describe('applyObjects', () => {
  it('sends every object in one request and prints kubectl\'s lines', async () => {
    const { client, seen } = await fakeServer((body) => ({
      status: 200,
      json: { results: body.objects.map((o, i) => ({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), action: i === 0 ? 'unchanged' : 'created' })) },
    }));
    const results = await applyObjects(client, objects());
    expect(seen).toMatchObject({ method: 'POST', url: APPLY_OBJECTS_PATH, authorization: 'Bearer admin-token' });
    expect(seen.body).toEqual({ objects: objects() });
    expect(results.map((r) => applyResultLine(r))).toEqual(['configmap/settings unchanged', 'deployment.apps/web created']);
  });

  it('asks for a dry run and says so', async () => {
    const { client, seen } = await fakeServer((body) => ({ status: 200, json: { results: body.objects.map((o) => ({ kind: o.kind, name: o.metadata.name, action: 'configured' })) } }));
    const results = await applyObjects(client, objects(), { dryRun: true });
    expect((seen.body as { dryRun?: boolean }).dryRun).toBe(true);
    expect(applyResultLine(results[1]!, true)).toBe('deployment.apps/web configured (server dry run)');
  });

  it('turns a Kubernetes Status error into one line per cause', async () => {
    const { client } = await fakeServer(() => ({
      status: 422,
      json: {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
        message: 'Deployment.apps "web" is invalid',
        details: { name: 'web', kind: 'Deployment', causes: [{ field: 'metadata.namespace', message: 'namespace "shop" does not exist' }, { field: 'spec.replicas', message: 'must be ≥ 0' }] },
      },
    }));
    const err = await applyObjects(client, objects()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroveError);
    expect((err as GroveError).code).toBe(ErrorCode.ManifestInvalid);
    expect((err as GroveError).message.split('\n')).toEqual(['Deployment.apps "web" is invalid', 'metadata.namespace: namespace "shop" does not exist', 'spec.replicas: must be ≥ 0']);
  });

  it('names the file and document of each object the server refuses, one line per cause (0.1 named the manifest file)', async () => {
    const { client } = await fakeServer(() => ({
      status: 422,
      json: {
        kind: 'Status',
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
        message: 'the apply is invalid: objects[1].spec.template.spec.volumes[0].hostPath.path: Deployment shop/web: volume "etc" …',
        details: {
          causes: [
            { field: 'objects[1].spec.template.spec.volumes[0].hostPath.path', message: 'Deployment shop/web: volume "etc" host path "/etc" is outside the allowed roots (/srv)' },
            { field: 'objects[0]', message: 'ConfigMap default/settings is also objects[2]: name each object once per apply' },
            { field: 'objects', message: 'at most 200 objects' },
          ],
        },
      },
    }));
    const r = manifestsToObjects([{ path: 'm.yaml', text: MANIFEST }]);
    expect(r.sources).toEqual([
      { file: 'm.yaml', document: 1 },
      { file: 'm.yaml', document: 2 },
    ]);
    const err = await applyObjects(client, r.objects).catch((e: unknown) => refusalWithSources(e, r.sources));
    expect(err).toBeInstanceOf(GroveError);
    expect((err as GroveError).code).toBe(ErrorCode.ManifestInvalid);
    expect((err as GroveError).message.split('\n')).toEqual([
      'm.yaml (document 2): spec.template.spec.volumes[0].hostPath.path: Deployment shop/web: volume "etc" host path "/etc" is outside the allowed roots (/srv)',
      'm.yaml: ConfigMap default/settings is also objects[2]: name each object once per apply',
      'objects: at most 200 objects',
    ]);
    // An error without causes is left as it is.
    const plain = new GroveError(ErrorCode.Conflict, 'stale');
    expect(refusalWithSources(plain, r.sources)).toBe(plain);
  });

  it('refuses an answer that does not account for every object', async () => {
    const { client } = await fakeServer(() => ({ status: 200, json: { results: [{ kind: 'ConfigMap', name: 'settings', action: 'created' }] } }));
    await expect(applyObjects(client, objects())).rejects.toThrow(/not \{results: \[\{kind, namespace\?, name, action\}\]\} for the 2 objects sent/);
  });
});

describe('loadObjects and the CLI\'s report', () => {
  it('reads files and prints every problem of every file, one line each', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { PassThrough } = await import('node:stream');
    const { loadObjects } = await import('../../src/cli/client/read-manifests.js');
    const { reportError } = await import('../../src/cli/report.js');
    const dir = await mkdtemp(join(tmpdir(), 'grove-load-objects-'));
    try {
      await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: A}\n');
      await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n');
      const err = await loadObjects([dir]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GroveError);
      const stderr = new PassThrough();
      let out = '';
      stderr.on('data', (d: Buffer) => (out += d.toString()));
      reportError(err, { stdout: new PassThrough(), stderr }, false);
      expect(out.trimEnd().split('\n')).toEqual([
        `grove: ${join(dir, 'a.yaml')}:3 (document 1, ConfigMap "A"): metadata.name: "A" must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
        `grove: ${join(dir, 'b.yaml')}:2 (document 1, Gizmo "g"): kind Gizmo is not a kind Grove knows (supported: Namespace, ConfigMap, Secret, Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob, Service, EndpointSlice, Ingress, IngressClass, PersistentVolumeClaim, PersistentVolume, StorageClass, ServiceAccount)`,
      ]);
      await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
      await rm(join(dir, 'b.yaml'));
      expect(await loadObjects([dir])).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
