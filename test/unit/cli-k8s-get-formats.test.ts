/** `grove get` with -o jsonpath / custom-columns, and `grove get events`, through commander against a fake server. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventInterval, eventsTable, parseFor, type KubeEvent } from '../../src/cli/verbs/client/k8s/events.js';
import { kubeList } from './cli-k8s-fake-api.js';
import { ago, NOW, pod, running } from './cli-k8s-fixtures.js';
import { fakeGroveEachTest } from './cli-run-grove.js';

const setUp = fakeGroveEachTest();
const pods = [pod('web-1', { phase: 'Running', containerStatuses: [running('web')] }), pod('web-2', { phase: 'Pending' }, { spec: { nodeName: undefined } })];
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', data: { password: b64('hunter22') } };

describe('grove get -o jsonpath / custom-columns', () => {
  it('a list: the template sees a v1 List of the items, with their kind', async () => {
    const { grove } = await setUp({ 'GET /api/v1/namespaces/default/pods': [200, kubeList('Pod', pods)] });
    expect(await grove.run(['get', 'pods', '-o', 'jsonpath={.kind} {.items[*].metadata.name}'])).toEqual({ code: 0, out: 'List web-1 web-2', err: '' });
    const r = await grove.run(['get', 'pods', '-o', 'jsonpath={range .items[?(@.status.phase=="Running")]}{.kind}/{.metadata.name}{"\\n"}{end}']);
    expect(r.out).toBe('Pod/web-1\n');
  });

  it('one object by name: the template sees the object', async () => {
    const { grove } = await setUp({ 'GET /api/v1/namespaces/default/pods/web-1': [200, pods[0]] });
    expect((await grove.run(['get', 'pod/web-1', '-o', 'jsonpath={.spec.nodeName}'])).out).toBe('pi-1');
  });

  it('secrets keep their values off the terminal unless --show-values', async () => {
    const { grove } = await setUp({ 'GET /api/v1/namespaces/default/secrets/db': [200, secret] });
    expect((await grove.run(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}'])).out).toBe('8');
    expect((await grove.run(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}', '--show-values'])).out).toBe(b64('hunter22'));
  });

  it('-o jsonpath-file reads the template from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-jsonpath-'));
    try {
      await writeFile(join(dir, 't'), '{.items[*].status.phase}');
      const { grove } = await setUp({ 'GET /api/v1/namespaces/default/pods': [200, kubeList('Pod', pods)] });
      expect((await grove.run(['get', 'pods', '-o', `jsonpath-file=${join(dir, 't')}`])).out).toBe('Running Pending');
      const missing = await grove.run(['get', 'pods', '-o', `jsonpath-file=${join(dir, 'nope')}`]);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('error reading template');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad template is one line, before anything is asked of the server', async () => {
    const { api, grove } = await setUp({});
    const r = await grove.run(['get', 'pods', '-o', 'jsonpath={.items[0']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('grove: error parsing jsonpath {.items[0: unterminated array\n');
    expect(api.seen).toEqual([]);
    expect((await grove.run(['get', 'pods', '-o', 'xml'])).err).toContain('unable to match a printer suitable for the output format "xml"');
  });

  it('custom-columns: a header row and a row per object', async () => {
    const { grove } = await setUp({ 'GET /api/v1/pods': [200, kubeList('Pod', pods)] });
    const r = await grove.run(['get', 'pods', '-A', '-o', 'custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IMAGE:.spec.containers[*].image']);
    expect(r.out).toBe('NAME    NODE     IMAGE\nweb-1   pi-1     nginx:1.27\nweb-2   <none>   nginx:1.27\n');
  });
});

const event = (name: string, reason: string, extra: Partial<KubeEvent> = {}): KubeEvent => ({
  metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
  type: 'Normal',
  reason,
  message: `${reason} message`,
  source: { component: 'grove-scheduler' },
  ...extra,
});
const scheduled = event('web-1.a', 'Scheduled', { firstTimestamp: ago(300), lastTimestamp: ago(300) });
const backoff = event('web-1.b', 'BackOff', { type: 'Warning', count: 4, firstTimestamp: ago(200), lastTimestamp: ago(8) });
const started = event('web-1.c', 'Started', { eventTime: ago(100) });

describe('events', () => {
  it('kubectl events\' table: oldest first, repeats counted, NAMESPACE with -A', () => {
    expect(eventsTable([backoff, scheduled, started], { allNamespaces: false, now: NOW })).toEqual({
      headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      rows: [
        ['5m', 'Normal', 'Scheduled', 'pod/web-1', 'Scheduled message'],
        ['100s', 'Normal', 'Started', 'pod/web-1', 'Started message'],
        ['8s (x4 over 3m20s)', 'Warning', 'BackOff', 'pod/web-1', 'BackOff message'],
      ],
    });
    expect(eventsTable([scheduled], { allNamespaces: true, now: NOW }).rows[0]![0]).toBe('default');
    expect(eventInterval(backoff, NOW)).toBe('8s (x4 over 3m20s)');
  });

  it('--for reads KIND/NAME', () => {
    expect(parseFor('deploy/web')).toEqual({ kind: 'Deployment', name: 'web' });
    expect(() => parseFor('web')).toThrow('is not KIND/NAME');
    expect(() => parseFor('widgets/x')).toThrow('doesn\'t have a resource type "widgets"');
  });

  it('grove get events lists the namespace\'s; --for asks by field selector and keeps only that object\'s', async () => {
    const other = event('db.a', 'Pulled', { involvedObject: { kind: 'Pod', name: 'db', namespace: 'default' }, lastTimestamp: ago(1) });
    const { api, grove } = await setUp({
      'GET /api/v1/namespaces/default/events': [200, kubeList('Event', [backoff, scheduled])],
      'GET /api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dweb-1': [200, kubeList('Event', [scheduled, other])],
      'GET /api/v1/events': [200, kubeList('Event', [])],
    });
    const all = await grove.run(['get', 'events']);
    expect(all.out.split('\n')[0]).toMatch(/^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$/);
    expect(all.out.split('\n')[1]).toMatch(/^\S+ +Normal +Scheduled +pod\/web-1 +Scheduled message$/);
    const one = await grove.run(['get', 'ev', '--for', 'pod/web-1', '-o', 'name']);
    expect(one.out).toBe('event/web-1.a\n');
    expect(await grove.run(['get', 'events', '-A'])).toEqual({ code: 0, out: '', err: 'No events found.\n' });
    expect(api.seen.map((s) => s.url)).toContain('/api/v1/events');
  });

  it('events go on their own; --for goes with events', async () => {
    const { api, grove } = await setUp({});
    expect((await grove.run(['get', 'pods,events'])).err).toContain('events are listed on their own');
    expect((await grove.run(['get', 'pods', '--for', 'pod/x'])).err).toContain('--for goes with events');
    expect((await grove.run(['get', 'pods', '--output-watch-events'])).err).toContain('--output-watch-events goes with -w/--watch or --watch-only');
    expect((await grove.run(['get', 'pods,deploy', '-w'])).err).toContain('watch is only supported on individual resources');
    expect(api.seen).toEqual([]);
  });
});
