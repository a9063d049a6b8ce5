import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { objectList, objectToYaml, printableObject } from '../../src/cli/client/object-yaml.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { validate, type KindName } from '../../src/core/objects/validate.js';
import { APPLIED_KINDS } from '../../src/core/manifests/kubernetes-objects.js';

const FIXTURES = new URL('../fixtures/manifests/objects/', import.meta.url);
const CORPUS = ['homelab.yaml', 'iot-daemonset.yaml', 'backup-cronjob.yaml', 'app-config.yaml', 'list.yaml', 'compose-stack.yaml', 'compose-oneshot.yaml', 'services.yaml', 'ingress.yaml', 'storage.yaml', 'statefulset.yaml'];

type Obj = Record<string, unknown>;

function defaulted(o: AnyObject): Obj {
  const r = validate(o.kind as KindName, o);
  if (!r.ok) throw new Error(`${o.kind} ${o.metadata.name}: ${JSON.stringify(r.errors)}`);
  return r.value as Obj;
}

/** What the server keeps of an applied object: defaults, and what it owns (uid, times, status). */
function stored(o: AnyObject, i: number): Obj {
  const value = defaulted(o);
  const meta = value.metadata as Obj;
  Object.assign(meta, { uid: `0000-${i}`, resourceVersion: String(100 + i), generation: 2, creationTimestamp: '2026-01-02T03:04:05Z' });
  const status: Record<string, Obj> = {
    Namespace: { phase: 'Active' },
    Pod: { phase: 'Running', hostIP: '10.0.0.5', startTime: '2026-01-02T03:04:06Z' },
    Job: { succeeded: 1, startTime: '2026-01-02T03:04:06Z' },
    CronJob: { lastScheduleTime: '2026-01-02T00:00:00Z' },
    Deployment: { observedGeneration: 2, replicas: 1, conditions: [{ type: 'Available', status: 'True' }] },
    ReplicaSet: { observedGeneration: 2, replicas: 2 },
    DaemonSet: { observedGeneration: 2, desiredNumberScheduled: 3 },
  };
  if (status[o.kind]) value.status = status[o.kind];
  return value;
}

/** The "unchanged" comparison of the apply endpoint: server-owned fields aside, after defaulting. */
function userPart(o: Obj): Obj {
  const { status: _status, ...rest } = structuredClone(o);
  const meta = rest.metadata as Obj;
  for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields']) delete meta[k];
  return rest;
}

function corpusObjects(): AnyObject[] {
  const r = manifestsToObjects(CORPUS.map((name) => ({ path: name, text: readFileSync(new URL(name, FIXTURES), 'utf8'), dir: '/srv/corpus' })));
  expect(r.problems).toEqual([]);
  return r.objects;
}

const replicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-5d4c8f9b7a', labels: { app: 'web', 'pod-template-hash': '5d4c8f9b7a' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-1', controller: true, blockOwnerDeletion: true }] },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4c8f9b7a' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': '5d4c8f9b7a' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
} as unknown as AnyObject;

const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' }, automountServiceAccountToken: false } as unknown as AnyObject;

describe('printing objects (get -o yaml)', () => {
  it('puts apiVersion, kind, metadata, spec first and status last, and leaves nothing empty', () => {
    const printed = printableObject({ status: {}, spec: { replicas: 1 }, metadata: { name: 'web', labels: {}, annotations: undefined, creationTimestamp: null }, kind: 'Deployment', apiVersion: 'apps/v1' });
    expect(Object.keys(printed)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(printed.metadata).toEqual({ name: 'web' });
    const secret = printableObject({ type: 'Opaque', data: {}, metadata: { name: 's' }, kind: 'Secret', apiVersion: 'v1' });
    expect(Object.keys(secret)).toEqual(['apiVersion', 'kind', 'metadata', 'data', 'type']);
    // emptyDir: {} means a volume: kept.
    expect(objectToYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } })).toContain('emptyDir: {}');
    expect(objectToYaml(stored(replicaSet, 1)).split('\n').slice(0, 3)).toEqual(['apiVersion: apps/v1', 'kind: ReplicaSet', 'metadata:']);
  });

  it('round-trips every kind a manifest may hold: print → manifestsToObjects → equal after defaulting', () => {
    const objects = [...corpusObjects(), replicaSet, serviceAccount];
    expect(new Set(objects.map((o) => o.kind))).toEqual(new Set(APPLIED_KINDS));
    const server = objects.map(stored);
    for (const [i, object] of server.entries()) {
      const yaml = objectToYaml(object);
      const back = manifestsToObjects([{ path: 'printed.yaml', text: yaml }]);
      expect(back.problems.map((p) => p.text), yaml).toEqual([]);
      expect(back.objects).toHaveLength(1);
      expect(userPart(defaulted(back.objects[0]!)), `${object.kind} ${i}`).toEqual(userPart(object));
    }
    // And all at once, as a List (what `get` of several objects prints), JSON too.
    const list = manifestsToObjects([{ path: 'all.json', text: JSON.stringify(objectList(server)) }]);
    expect(list.problems).toEqual([]);
    expect(list.objects.map((o) => userPart(defaulted(o)))).toEqual(server.map(userPart));
  });
});
