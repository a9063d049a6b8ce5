/**
 * Event columns as the Kubernetes API server defines them (kubectl get events), shared by the
 * server's Table and `grove get events`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { EventStore } from '../../src/server/events/event-store.js';
import { Router } from '../../src/server/http.js';
import { addEventRoutes, eventCollection } from '../../src/server/k8s-api/events-routes.js';
import { ManualClock } from '../support/manual-clock.js';
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

describe('the events paths answer Tables when kubectl asks for them', () => {
  it('list, one event, and a watch\'s events (one-row Tables)', async () => {
    const clock = new ManualClock(NOW.getTime() - 8000);
    const events = new EventStore({ clock, newUid: () => 'ev-1' });
    events.record([{ involved: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u1', fieldPath: 'spec.containers{app}' }, type: 'Normal', reason: 'Started', message: 'Started container app', component: 'kubelet', host: 'pi-1' }]);
    clock.advance(8000);
    const router = new Router({ logger: silentLogger(), adminToken: 't' });
    addEventRoutes(router, events, eventCollection(clock), () => new Date(clock.now()));
    const server = http.createServer(router.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string, table = true) => {
      const res = await fetch(base + path, { headers: { authorization: 'Bearer t', ...(table ? { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } : {}) } });
      return (await res.json()) as any;
    };
    try {
      const list = await get('/api/v1/namespaces/default/events');
      expect(list.kind).toBe('Table');
      expect(list.rows[0].cells.slice(0, 7)).toEqual(['8s', 'Normal', 'Started', 'pod/web-1', 'spec.containers{app}', 'kubelet, pi-1', 'Started container app']);
      const name = (await get('/api/v1/namespaces/default/events', false)).items[0].metadata.name;
      expect((await get(`/api/v1/namespaces/default/events/${name}`)).rows[0].cells[2]).toBe('Started');
      const stop = new AbortController();
      const res = await fetch(base + '/api/v1/namespaces/default/events?watch=true', { signal: stop.signal, headers: { authorization: 'Bearer t', accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
      stop.abort();
      const first = JSON.parse(text.split('\n')[0]!);
      expect(first).toMatchObject({ type: 'ADDED', object: { kind: 'Table' } });
      expect(first.object.rows[0].cells.slice(0, 4)).toEqual(['8s', 'Normal', 'Started', 'pod/web-1']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
