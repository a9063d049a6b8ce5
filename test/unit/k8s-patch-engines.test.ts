/**
 * The patch engines of the Kubernetes write paths, by their outputs: JSON patch (RFC 6902's
 * examples), merge patch (RFC 7386's), strategic merge patch as kubectl sends it (list merge by
 * the keys the object schemas declare, directives), field sets and server-side apply conflicts.
 */
import { describe, expect, it } from 'vitest';
import { isGroveError } from '../../src/core/errors.js';
import { SchemaIndex } from '../../src/core/objects/schema-cursor.js';
import { applyJsonPatch } from '../../src/server/k8s-api/json-patch.js';
import { applyMergePatch } from '../../src/server/k8s-api/merge-patch.js';
import { applyStrategicMergePatch } from '../../src/server/k8s-api/strategic-merge.js';
import { changedFields, fieldsOf, leaves, pathString, recordUpdate, subtract } from '../../src/server/k8s-api/managed-fields.js';
import { serverSideApply } from '../../src/server/k8s-api/server-side-apply.js';
import { duplicateKeys, unknownFields, writeOptions } from '../../src/server/k8s-api/field-validation.js';
import { parseDeleteOptions } from '../../src/server/k8s-api/delete-options.js';

const schemas = new SchemaIndex();

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return isGroveError(err) ? err.message : String(err);
  }
  return 'did not throw';
}

describe('JSON patch (RFC 6902)', () => {
  it('applies the RFC examples: add, remove, replace, move, copy, test, "-" appends', () => {
    expect(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }])).toEqual({ foo: 'bar', baz: 'qux' });
    expect(applyJsonPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).toEqual({ foo: ['bar', 'qux', 'baz'] });
    expect(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: 'bar' });
    expect(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }])).toEqual({ baz: 'boo', foo: 'bar' });
    expect(applyJsonPatch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }])).toEqual({ foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } });
    expect(applyJsonPatch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }])).toEqual({ foo: ['all', 'cows', 'eat', 'grass'] });
    expect(applyJsonPatch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }])).toEqual({ a: { b: 1 }, c: { b: 1 } });
    expect(applyJsonPatch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }])).toEqual({ foo: ['bar', ['abc', 'def']] });
    expect(applyJsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }, { op: 'replace', path: '/~1', value: 1 }])).toEqual({ '/': 1, '~1': 10 });
  });

  it('fails the whole patch on a failed test or a missing path, leaving the document unchanged', () => {
    const doc = { baz: 'qux', foo: ['a', 2, 'c'] };
    expect(thrown(() => applyJsonPatch(doc, [{ op: 'replace', path: '/baz', value: 'x' }, { op: 'test', path: '/baz', value: 'qux' }]))).toContain('test operation 1 failed');
    expect(doc.baz).toBe('qux');
    expect(thrown(() => applyJsonPatch(doc, [{ op: 'add', path: '/baz/bat', value: 'qux' }]))).toContain('path not found');
    expect(thrown(() => applyJsonPatch(doc, [{ op: 'remove', path: '/foo/3' }]))).toContain('out of range');
    expect(thrown(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/baz' }]))).toContain('unknown op');
    expect(thrown(() => applyJsonPatch(doc, { op: 'add' }))).toContain('must be an array');
  });
});

describe('merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7386 example %#', (target, patch, result) => {
    expect(applyMergePatch(target, patch)).toEqual(result);
  });
});

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
          { name: 'sidecar', image: 'busybox:1.36', args: ['sleep', '1d'] },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

const smp = (doc: unknown, patch: unknown) => applyStrategicMergePatch(doc, patch, schemas.root('Deployment')) as ReturnType<typeof deployment>;

describe('strategic merge patch', () => {
  it('merges containers and env by name (kubectl set image, kubectl set env)', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } } });
    expect(out.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.28', 'sidecar=busybox:1.36']);
    expect(out.spec.template.spec.containers[0]!.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    expect(out.spec.template.spec.containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('replaces lists without a merge strategy (args) and deletes with null', () => {
    const out = smp(deployment(), { metadata: { labels: { app: null, tier: 'front' } }, spec: { template: { spec: { containers: [{ name: 'sidecar', args: ['sleep', '2d'] }] } } } });
    expect(out.metadata.labels).toEqual({ tier: 'front' });
    expect(out.spec.template.spec.containers[1]!.args).toEqual(['sleep', '2d']);
  });

  it('understands $patch delete and replace, $setElementOrder, $retainKeys and $deleteFromPrimitiveList', () => {
    const del = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }], volumes: [{ $patch: 'replace' }, { name: 'cache', emptyDir: {} }] } } } });
    expect(del.spec.template.spec.containers.map((c) => c.name)).toEqual(['web']);
    expect(del.spec.template.spec.volumes).toEqual([{ name: 'cache', emptyDir: {} }]);
    // What kubectl apply sends when a container is added in front: the order comes from $setElementOrder.
    const order = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'init' }, { name: 'web' }, { name: 'sidecar' }], containers: [{ name: 'init', image: 'alpine:3' }] } } } });
    expect(order.spec.template.spec.containers.map((c) => c.name)).toEqual(['init', 'web', 'sidecar']);
    const strategy = applyStrategicMergePatch({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, schemas.root('Deployment'));
    expect(strategy).toEqual({ spec: { strategy: { type: 'Recreate' } } });
    const finalizers = applyStrategicMergePatch({ metadata: { finalizers: ['orphan', 'foregroundDeletion'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['orphan'] } }, schemas.root('Deployment'));
    expect(finalizers).toEqual({ metadata: { finalizers: ['foregroundDeletion'] } });
    const replaced = smp(deployment(), { spec: { template: { $patch: 'replace', spec: { containers: [{ name: 'x', image: 'y' }] } } } });
    expect(replaced.spec.template).toEqual({ spec: { containers: [{ name: 'x', image: 'y' }] } });
  });

  it('merges ports by containerPort and volumeMounts by mountPath; refuses an item without its key', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 443 }], volumeMounts: [{ mountPath: '/data', name: 'data' }] }] } } } });
    expect(out.spec.template.spec.containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }]);
    expect(thrown(() => smp(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }))).toContain('has no "name"');
    expect(thrown(() => smp(deployment(), { spec: { $patch: 'explode' } }))).toContain('unknown $patch directive');
  });
});

describe('field sets and server-side apply', () => {
  const schema = schemas.root('Deployment');

  it('names list items by their keys, and leaves as Kubernetes prints them', () => {
    const set = fieldsOf(deployment(), schema);
    const paths = leaves(set).map(pathString);
    expect(paths).toContain('.spec.template.spec.containers[name="web"].image');
    expect(paths).toContain('.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort');
    expect(paths).toContain('.metadata.labels.app');
    expect(paths).not.toContain('.metadata.name');
    const changed = changedFields(deployment(), { ...deployment(), spec: { ...deployment().spec, replicas: 3 } }, schema);
    expect(leaves(changed).map(pathString)).toEqual(['.spec.replicas']);
  });

  it('an update takes the changed fields from their previous manager', () => {
    const before = fieldsOf(deployment(), schema);
    const entries = recordUpdate([{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: before }], 'kubectl-scale', 'apps/v1', 't', { 'f:spec': { 'f:replicas': {} } }, before);
    expect(entries.map((e) => e.manager)).toEqual(['kubectl', 'kubectl-scale']);
    expect(leaves(entries[0]!.fieldsV1 as never).map(pathString)).not.toContain('.spec.replicas');
    expect(entries[1]!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('applies, removes what the manager no longer applies, and reports conflicts unless forced', () => {
    const base = { schema, apiVersion: 'apps/v1', time: '2025-01-01T00:00:00Z', force: false };
    const created = serverSideApply({ ...base, config: deployment(), manager: 'kubectl' });
    expect(created.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Apply' })]);
    // Another manager changes replicas with an update: it owns .spec.replicas now.
    const scaled = { ...created, spec: { ...(created.spec as object), replicas: 5 }, metadata: { ...created.metadata, managedFields: recordUpdate(created.metadata.managedFields as never, 'kubectl-scale', 'apps/v1', 't', { 'f:spec': { 'f:replicas': {} } }, fieldsOf(created, schema)) } };
    const err = (() => {
      try {
        serverSideApply({ ...base, live: scaled, config: deployment(), manager: 'kubectl' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isGroveError(err) && err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
    expect(isGroveError(err) && err.details).toMatchObject({ causes: [{ reason: 'FieldManagerConflict', field: '.spec.replicas' }] });
    const forced = serverSideApply({ ...base, force: true, live: scaled, config: deployment(), manager: 'kubectl' });
    expect((forced.spec as { replicas: number }).replicas).toBe(1);
    expect((forced.metadata.managedFields as { manager: string }[]).map((e) => e.manager)).toEqual(['kubectl']);
    // Applying the same value another manager set is shared ownership, not a conflict.
    const same = serverSideApply({ ...base, live: scaled, config: { ...deployment(), spec: { ...deployment().spec, replicas: 5 } }, manager: 'kubectl' });
    expect((same.metadata.managedFields as { manager: string }[]).map((e) => e.manager)).toEqual(['kubectl', 'kubectl-scale']);
    // A label the manager applied before and leaves out now is removed; the sidecar too.
    const config = deployment();
    config.metadata.labels = {} as never;
    config.spec.template.spec.containers.pop();
    const pruned = serverSideApply({ ...base, live: created, config, manager: 'kubectl' });
    expect((pruned.metadata.labels as object) ?? {}).toEqual({});
    expect((pruned.spec as ReturnType<typeof deployment>['spec']).template.spec.containers.map((c) => c.name)).toEqual(['web']);
    // Path sets: owning .b is not owning .b.c.
    expect(subtract({ 'f:a': {}, 'f:b': { 'f:c': {} } }, { 'f:b': {} })).toEqual({ 'f:a': {}, 'f:b': { 'f:c': {} } });
    expect(subtract({ 'f:a': {}, 'f:b': { 'f:c': {} } }, { 'f:a': {}, 'f:b': { 'f:c': {} } })).toEqual({});
  });
});

describe('field validation and options', () => {
  it('finds unknown fields (not the ones Grove refuses by name) and duplicate keys', () => {
    const d = deployment() as Record<string, unknown> & ReturnType<typeof deployment>;
    const withUnknown = { ...d, spec: { ...d.spec, foo: 1, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: [{ ...d.spec.template.spec.containers[0], colour: 'red' }] } } } };
    const { unknown, known } = unknownFields('Deployment', withUnknown);
    expect(unknown.sort()).toEqual(['spec.foo', 'spec.template.spec.containers[0].colour']);
    expect(unknownFields('Deployment', known).unknown).toEqual([]);
    expect(unknownFields('Deployment', { ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, affinity: {} } } } }).unknown).toEqual([]);
    expect(duplicateKeys('{"spec":{"replicas":1,"x":[{"a":1,"a":2}],"replicas":2}}')).toEqual(['spec.x[0].a', 'spec.replicas']);
    expect(duplicateKeys('{"a":"\\"b\\":","b":1}')).toEqual([]);
  });

  it('reads dryRun, fieldValidation, fieldManager, force and DeleteOptions, refusing what it does not know', () => {
    expect(writeOptions(new URLSearchParams('dryRun=All&fieldValidation=Warn&fieldManager=kubectl&force=true'))).toEqual({ dryRun: true, fieldValidation: 'Warn', fieldManager: 'kubectl', force: true });
    expect(writeOptions(new URLSearchParams(''))).toEqual({ dryRun: false, fieldValidation: 'Strict', force: false });
    expect(thrown(() => writeOptions(new URLSearchParams('dryRun=Some')))).toContain('only "All"');
    expect(thrown(() => writeOptions(new URLSearchParams('fieldValidation=Loose')))).toContain('Strict, Warn or Ignore');
    expect(parseDeleteOptions({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', preconditions: { uid: 'u' } }, new URLSearchParams())).toEqual({ propagation: 'Foreground', dryRun: false, preconditions: { uid: 'u' } });
    expect(parseDeleteOptions(undefined, new URLSearchParams('orphanDependents=true&gracePeriodSeconds=0&dryRun=All'))).toEqual({ propagation: 'Orphan', dryRun: true, gracePeriodSeconds: 0 });
    expect(thrown(() => parseDeleteOptions({ propagationPolicy: 'Sideways' }, new URLSearchParams()))).toContain('propagationPolicy');
    expect(thrown(() => parseDeleteOptions({ gracePeriodSeconds: -1 }, new URLSearchParams()))).toContain('gracePeriodSeconds');
  });
});
