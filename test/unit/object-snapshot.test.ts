import { describe, expect, it } from 'vitest';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { emptyObjects, type ObjectsByKind } from '../../src/server/controllers/controller.js';
import { keyOf, type ObjectWrite } from '../../src/server/objects/object-store.js';
import { withWrites } from '../../src/server/objects/object-snapshot.js';
import { configMap, namespace } from '../contract/object-store.contract.js';

const versioned = (o: AnyObject, rv: number): AnyObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } }) as AnyObject;
const write = (o: AnyObject, deleted = false): ObjectWrite => {
  const ns = (o.metadata as { namespace?: string }).namespace;
  const ref = { kind: o.kind, ...(ns !== undefined ? { namespace: ns } : {}), name: o.metadata.name } as Parameters<typeof keyOf>[0];
  return { key: keyOf(ref), kind: ref.kind, ...(ns !== undefined ? { namespace: ns } : {}), ...(deleted ? { previous: o } : { object: o }) };
};

describe('withWrites', () => {
  const base = { ...emptyObjects(), Namespace: [versioned(namespace('default'), 1)], ConfigMap: [versioned(configMap('b', { v: '1' }), 2), versioned(configMap('d', { v: '1' }), 3)] } as ObjectsByKind;

  it('replaces, adds and removes objects in commit order, kinds kept in the store order', () => {
    const out = withWrites(base, [
      write(versioned(configMap('c', { v: '1' }), 4)),
      write(versioned(configMap('b', { v: '2' }), 5)),
      write(versioned(configMap('a', { v: '1' }), 5)),
      write(versioned(configMap('d', { v: '1' }), 3), true),
      write(versioned(configMap('c', { v: '2' }), 6)),
      write(versioned(configMap('a', { v: '1' }, 'kube-system'), 6)),
    ]);
    expect(out.ConfigMap.map((c) => `${c.metadata.namespace}/${c.metadata.name}=${c.data?.v}@${c.metadata.resourceVersion}`)).toEqual([
      'default/a=1@5',
      'default/b=2@5',
      'default/c=2@6',
      'kube-system/a=1@6',
    ]);
    // Kinds not written are the base's own arrays; the base is left as it was.
    expect(out.Namespace).toBe(base.Namespace);
    expect(base.ConfigMap.map((c) => c.metadata.name)).toEqual(['b', 'd']);
  });

  it('returns the base itself for no writes', () => {
    expect(withWrites(base, [])).toBe(base);
  });
});
