/**
 * Compose's runtime fields (issue 16 item 3): dns*, ulimits, init, stop_signal, logging and links
 * translated as data; the grove.io/ annotations they become, parsed and refused with reasons;
 * the node's rlimits from them; `grove compose ps` rows and `logs` service choice.
 */
import { describe, expect, it } from 'vitest';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { checkGroveAnnotations, readGroveAnnotations } from '../../src/core/objects/annotations.js';
import { parseStopSignal, parseUlimits } from '../../src/core/objects/container-options.js';
import { containerRlimits, RLIM_INFINITY } from '../../agent/src/runtime/rlimits.js';
import { composeProject, composePsTable, logWorkloads } from '../../src/cli/verbs/client/compose-project.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function translate(text: string) {
  return manifestsToObjects([{ path: 'compose.yaml', text, dir: '/srv/app' }], { compose: { environment: {}, readText: () => undefined } });
}
const workload = (r: ReturnType<typeof translate>, name: string): any => r.objects.find((o: any) => o.metadata.name === name && o.kind !== 'Service');

describe('compose runtime fields', () => {
  const r = translate(`
services:
  web:
    image: busybox
    restart: always
    dns: 10.0.0.53
    dns_search: [home.lan]
    dns_opt: [ndots:2, edns0]
    ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512, core: -1}
    init: true
    stop_signal: sigquit
    logging: {driver: json-file, options: {max-size: 10m, max-file: 3, compress: "true"}}
    links: [db:database, db]
    hostname: frontdoor
  db:
    image: busybox
    restart: always
    logging: {driver: syslog, options: {syslog-address: "udp://1.2.3.4:514"}}
`);
  it('translates without problems and warns about what it ignores', () => {
    expect(r.problems.map((p) => p.text)).toEqual([]);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^compose.yaml:\d+ .*services\.web\.logging\.options\.compress: is ignored/),
      expect.stringMatching(/^compose.yaml:\d+ .*services\.db\.logging\.driver: "syslog" is not available/),
    ]);
  });
  it('puts dns, dns_search and dns_opt in the pod dnsConfig, keeping the cluster DNS first', () => {
    const spec = workload(r, 'web').spec.template.spec;
    expect(spec.dnsPolicy).toBeUndefined();
    expect(spec.hostname).toBe('frontdoor');
    expect(spec.dnsConfig).toEqual({ nameservers: ['10.0.0.53'], searches: ['home.lan'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] });
  });
  it('carries ulimits, init, the stop signal and the log caps as grove.io/ annotations', () => {
    expect(workload(r, 'web').spec.template.metadata.annotations).toMatchObject({
      'grove.io/ulimits': 'nofile=1024:4096,nproc=512,core=-1',
      'grove.io/init': 'true',
      'grove.io/stop-signal': 'SIGQUIT',
      'grove.io/log-max-size': String(10 * 1024 * 1024),
      'grove.io/log-max-file': '3',
    });
    expect(workload(r, 'db').spec.template.metadata.annotations ?? {}).not.toHaveProperty('grove.io/log-max-size');
  });
  it('makes a link alias a name of the linked service', () => {
    const services = r.objects.filter((o: any) => o.kind === 'Service').map((o: any) => [o.metadata.name, o.spec.selector['com.docker.compose.service']]);
    expect(services).toEqual(expect.arrayContaining([['database', 'db'], ['db', 'db'], ['web', 'web']]));
  });
  it('lists every bad runtime field of a file in one run, each with its line', () => {
    const bad = translate(`
services:
  a:
    image: busybox
    dns: [not-an-ip]
    ulimits: {nofiles: 10, nproc: {soft: 20, hard: 10}}
    stop_signal: SIGFOO
    logging: {options: {max-size: 1}}
    links: [ghost]
    hostname: Nas.home
`);
    const lines = bad.problems.map((p) => p.text);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/compose.yaml:5 .*services\.a\.dns\[0\]: "not-an-ip" must be an IPv4 address/),
      expect.stringMatching(/compose.yaml:6 .*services\.a\.ulimits\.nofiles: "nofiles" is not a ulimit/),
      expect.stringMatching(/compose.yaml:9 .*services\.a\.links\[0\]: "ghost" is not a service of this file/),
      expect.stringMatching(/compose.yaml:10 .*services\.a\.hostname: "Nas.home" must be a DNS label/),
    ]));
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });
  it('refuses a soft limit above the hard one and an unknown signal', () => {
    const bad = translate('services:\n  a:\n    image: busybox\n    ulimits: {nproc: {soft: 20, hard: 10}}\n');
    expect(bad.problems.map((p) => p.text).join('\n')).toMatch(/services\.a\.ulimits\.nproc: "nproc=20:10": the soft limit is above the hard limit/);
    const sig = translate('services:\n  a:\n    image: busybox\n    stop_signal: SIGFOO\n');
    expect(sig.problems.map((p) => p.text).join('\n')).toMatch(/services\.a\.stop_signal: "SIGFOO" is not a signal name/);
  });
});

describe('the container option annotations', () => {
  it('are checked strictly on apply and read leniently on the node', () => {
    expect(checkGroveAnnotations({ 'grove.io/ulimits': 'nofile=x', 'grove.io/init': 'yes', 'grove.io/log-max-file': '0' }).map((p) => p.key)).toEqual([
      'grove.io/ulimits', 'grove.io/init', 'grove.io/log-max-file',
    ]);
    expect(readGroveAnnotations({ 'grove.io/ulimits': 'nofile=x', 'grove.io/stop-signal': 'SIGINT', 'grove.io/init': 'true' }).container).toEqual({ init: true, stopSignal: 'INT' });
  });
  it('parse signals by name only, with or without SIG, and real-time offsets', () => {
    expect(parseStopSignal('SIGRTMIN+3')).toBe('RTMIN+3');
    expect(parseStopSignal('quit')).toBe('QUIT');
    expect(() => parseStopSignal('15')).toThrow(/not a signal name/);
  });
  it('parse -1 as unlimited', () => {
    expect(parseUlimits('core=-1,nofile=10:20')).toEqual([{ name: 'core', soft: 'unlimited', hard: 'unlimited' }, { name: 'nofile', soft: 10, hard: 20 }]);
  });
});

describe('the node rlimits', () => {
  const host = { rlimits: { RLIMIT_NOFILE: { soft: 1024, hard: 524288 }, RLIMIT_CORE: { soft: 0, hard: 'unlimited' as const } }, nofile: 524288 };
  const noSysResource = '00000000a80425fb';
  it('keep the node default and put the ulimits over it, unlimited as RLIM_INFINITY', () => {
    expect(containerRlimits('c', parseUlimits('nofile=1000:2000,core=-1'), { ...host, capBounding: noSysResource })).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 },
      { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
  });
  it('refuse a hard limit above the node limit without CAP_SYS_RESOURCE, and allow it with', () => {
    expect(() => containerRlimits('c', parseUlimits('nofile=1048576'), { ...host, capBounding: noSysResource })).toThrow(/ulimit nofile hard 1048576 is above this node's limit 524288, and the agent lacks CAP_SYS_RESOURCE/);
    expect(containerRlimits('c', parseUlimits('nofile=1048576'), { ...host, capBounding: 'ffffffffff' })?.[0]).toEqual({ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 });
  });
});

describe('grove compose ps and logs', () => {
  const r = translate('name: shop\nservices:\n  web_ui:\n    image: nginx\n    restart: always\n  db:\n    image: postgres\n    restart: always\n');
  it('find the project, its namespace and each service workload', () => {
    const p = composeProject(r.objects);
    expect(p).toMatchObject({ name: 'shop', namespace: 'shop' });
    expect([...p.workloads]).toEqual([['web_ui', 'deployment/web-ui'], ['db', 'deployment/db']]);
    expect(logWorkloads(p, ['db'])).toEqual(['deployment/db']);
    expect(() => logWorkloads(p, ['nope'])).toThrow(/no such service: nope \(the project's services: web_ui, db\)/);
  });
  it('show name, image, service, status, node and published ports', () => {
    const pod = (name: string, service: string, extra: any = {}): any => ({
      metadata: { name, labels: { 'com.docker.compose.service': service }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
      spec: { nodeName: extra.node, containers: [{ name: 'c', image: `${service}:1`, ports: extra.ports }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] },
    });
    const text = composePsTable([pod('web-1', 'web', { node: 'pi-1', ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }], annotations: { 'grove.io/container-name': 'shop_web' } }), pod('db-1', 'db')], new Date());
    const rows = text.split('\n').map((l) => l.split(/\s{3,}/));
    expect(rows[0]).toEqual(['NAME', 'IMAGE', 'SERVICE', 'STATUS', 'NODE', 'PORTS']);
    expect(rows[1]).toEqual(['db-1', 'db:1', 'db', 'Running 1/1', '<pending>']);
    expect(rows[2]).toEqual(['shop_web', 'web:1', 'web', 'Running 1/1', 'pi-1', '0.0.0.0:8080->80/tcp']);
  });
});
