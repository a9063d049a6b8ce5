/** meta.k8s.io Tables: Kubernetes' columns per kind, typed cells, the object per includeObject. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { asTable, includeObjectOf } from '../../src/server/k8s-api/table.js';
import { deployment, NOW, pod, running, stored } from './cli-k8s-fixtures.js';

const OPTIONS = { includeObject: 'Metadata' as const, version: 'v1' as const, now: NOW };

describe('asTable', () => {
  const web = deployment('web', 3, { replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });

  it('a List becomes a Table with the list metadata, Kubernetes column names and the wide ones at priority 1', () => {
    const table = asTable('Deployment', { kind: 'DeploymentList', metadata: { resourceVersion: '9', continue: 'next' }, items: [web] }, OPTIONS) as Record<string, any>;
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9', continue: 'next' } });
    expect(table.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`)).toEqual([
      'Name:0', 'Ready:0', 'Up-to-date:0', 'Available:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1',
    ]);
    expect(table.columnDefinitions[0]).toMatchObject({ type: 'string', format: 'name' });
    // Counts are numbers (integer columns); the rest as kubectl prints them.
    expect(table.rows).toEqual([
      {
        cells: ['web', '2/3', 2, 2, '10m', 'web,log', 'nginx:1.27,busybox:1.36', 'app=web,tier=front'],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: web.metadata },
      },
    ]);
  });

  it('one object becomes a one-row Table at its resourceVersion; includeObject=Object embeds it, None nothing', () => {
    const p = pod('web-1', { phase: 'Running', containerStatuses: [running('web')] });
    const whole = asTable('Pod', p as never, { ...OPTIONS, includeObject: 'Object' }) as Record<string, any>;
    expect(whole.metadata).toEqual({ resourceVersion: '42' });
    expect(whole.rows[0].cells.slice(0, 4)).toEqual(['web-1', '1/1', 'Running', '0']);
    expect(whole.rows[0].object).toBe(p);
    const bare = asTable('Pod', p as never, { ...OPTIONS, includeObject: 'None' }) as Record<string, any>;
    expect(bare.rows[0]).not.toHaveProperty('object');
    expect(bare.columnDefinitions.filter((c: { priority: number }) => c.priority === 1).map((c: { name: string }) => c.name)).toEqual(['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
  });

  it('v1beta1 when the client asked for it; a kind Grove has no columns for gets Name and Age', () => {
    const cm = stored('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { a: '1', b: '2' } });
    expect(asTable('ConfigMap', { items: [cm] }, { ...OPTIONS, version: 'v1beta1' })).toMatchObject({ apiVersion: 'meta.k8s.io/v1beta1', rows: [{ cells: ['settings', 2, '10m'] }] });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'web.1', namespace: 'default', creationTimestamp: new Date(NOW.getTime() - 8000).toISOString() } };
    expect(asTable('Lease', { items: [lease] }, OPTIONS)).toMatchObject({ columnDefinitions: [{ name: 'Name' }, { name: 'Age' }], rows: [{ cells: ['web.1', '8s'] }] });
  });
});

describe('includeObjectOf', () => {
  it('defaults to Metadata and refuses anything but None, Metadata, Object', () => {
    expect(includeObjectOf(null)).toBe('Metadata');
    expect(includeObjectOf('Object')).toBe('Object');
    let err: unknown;
    try {
      includeObjectOf('Everything');
    } catch (e) {
      err = e;
    }
    expect(isGroveError(err, ErrorCode.InvalidArgument)).toBe(true);
  });
});
