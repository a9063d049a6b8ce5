/**
 * Event columns as the Kubernetes API server defines them (kubectl get events), shared by the
 * server's Table and `grove get events`.
 */
import { describe, expect, it } from 'vitest';
import { asTable } from '../../src/server/k8s-api/table.js';
import { eventsTable } from '../../src/cli/verbs/client/k8s/events.js';
import type { EventView } from '../../src/core/objects/columns/columns-events.js';

const NOW = new Date('2026-01-01T12:00:00Z');

const pulled: EventView = {
  metadata: { name: 'web-1.1880a', namespace: 'default', creationTimestamp: '2026-01-01T11:50:00Z' },
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{app}' },
  reason: 'Pulled',
  message: 'Container image "busybox" already present on machine ',
  type: 'Normal',
  count: 3,
  firstTimestamp: '2026-01-01T11:50:00Z',
  lastTimestamp: '2026-01-01T11:55:00Z',
  source: { component: 'kubelet', host: 'pi-1' },
};
const nodeReady: EventView = {
  metadata: { name: 'pi-1.1880b', namespace: 'default' },
  involvedObject: { kind: 'Node', name: 'pi-1' },
  reason: 'NodeReady',
  message: 'Node pi-1 status is now: NodeReady',
  type: 'Normal',
  firstTimestamp: '2026-01-01T11:59:52Z',
  lastTimestamp: '2026-01-01T11:59:52Z',
  source: { component: 'node-controller' },
};

describe('the Event Table (kubectl get events)', () => {
  const table = asTable('Event', { metadata: { resourceVersion: '9' }, items: [pulled, nodeReady] }, { includeObject: 'Metadata', version: 'v1', now: NOW }) as any;

  it('has Kubernetes column definitions, the wide ones interleaved with priority 1', () => {
    expect(table.columnDefinitions.map((c: any) => [c.name, c.priority])).toEqual([
      ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1], ['Message', 0], ['First Seen', 1], ['Count', 1], ['Name', 1],
    ]);
    expect(table.columnDefinitions.find((c: any) => c.name === 'Name').format).toBe('name');
    expect(table.metadata).toEqual({ resourceVersion: '9' });
  });

  it('sends every cell: ages, kind/name, field path, source with host, trimmed message, count as a number', () => {
    expect(table.rows[0].cells).toEqual(['5m', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{app}', 'kubelet, pi-1', 'Container image "busybox" already present on machine', '10m', 3, 'web-1.1880a']);
    expect(table.rows[1].cells).toEqual(['8s', 'Normal', 'NodeReady', 'node/pi-1', '', 'node-controller', 'Node pi-1 status is now: NodeReady', '8s', 1, 'pi-1.1880b']);
    expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web-1.1880a' } });
  });
});

describe('grove get events', () => {
  it('prints the default columns with kubectl events\' LAST SEEN, oldest first', () => {
    const t = eventsTable([nodeReady, pulled], { allNamespaces: false, now: NOW });
    expect(t.headers).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(t.rows[0]).toEqual(['5m (x3 over 10m)', 'Normal', 'Pulled', 'pod/web-1', 'Container image "busybox" already present on machine']);
  });

  it('-o wide adds SUBOBJECT, SOURCE, FIRST SEEN, COUNT and NAME where Kubernetes puts them; -A adds NAMESPACE first', () => {
    const t = eventsTable([pulled], { allNamespaces: true, now: NOW, wide: true });
    expect(t.headers).toEqual(['NAMESPACE', 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(t.rows[0]).toEqual(['default', '5m (x3 over 10m)', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{app}', 'kubelet, pi-1', 'Container image "busybox" already present on machine', '10m', '3', 'web-1.1880a']);
  });
});
