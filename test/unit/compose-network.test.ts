/**
 * Compose networking → objects (compose-network.ts through manifestsToObjects): the project's
 * namespace, the Services each service gets (ports, expose, headless, aliases), the network
 * labels on pods, and the refusals. Exact objects, as the client sends them.
 */
import { describe, expect, it } from 'vitest';
import { manifestsToObjects, type ManifestFile } from '../../src/core/manifests/manifest-objects.js';
import { projectNamespace } from '../../src/core/manifests/compose-network.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
function objects(text: string, dir?: string): any[] {
  const file: ManifestFile = { path: 'compose.yaml', text, ...(dir ? { dir } : {}) };
  const r = manifestsToObjects([file]);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const problems = (text: string, dir?: string) =>
  manifestsToObjects([{ path: 'compose.yaml', text, ...(dir ? { dir } : {}) }]).problems.map((p) => p.text);
const find = (all: any[], kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name);
const sel = (project: string, service: string) => ({ 'com.docker.compose.project': project, 'com.docker.compose.service': service });

const STACK = `name: shop
services:
  web:
    image: nginx
    restart: always
    ports: ["8080:80", "443:443"]
    expose: [9000, "80", "53/udp"]
    networks: [front, back]
  db:
    image: postgres
    restart: always
    expose: ["5432"]
    networks:
      back:
        aliases: [database, postgres]
  cache:
    image: redis
    restart: always
    networks: [back]
networks:
  front: {}
  back:
    internal: true
`;

describe('compose projects and their namespace', () => {
  it('puts the project into a namespace named after it, created first', () => {
    const all = objects(STACK);
    expect(all.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace//shop',
      'Deployment/shop/web',
      'Service/shop/web',
      'Deployment/shop/db',
      'Service/shop/db',
      'Service/shop/database',
      'Service/shop/postgres',
      'Deployment/shop/cache',
      'Service/shop/cache',
    ]);
    expect(all[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'com.docker.compose.project': 'shop' } } });
  });

  it('takes the project from the directory as docker compose does, and makes it a namespace name', () => {
    const file = 'services:\n  db:\n    image: postgres\n    restart: always\n';
    expect(objects(file, '/home/me/My.Stack')[0].metadata.name).toBe('mystack');
    const underscored = objects(file, '/srv/_home_lab_');
    expect(underscored[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'home-lab', labels: { 'com.docker.compose.project': 'home_lab' } } });
    expect(find(underscored, 'Deployment', 'db').metadata.labels).toEqual(sel('home_lab', 'db'));
    expect(projectNamespace('a_b_')).toBe('a-b');
    // stdin (no directory) stays in default, which exists: no Namespace object.
    expect(objects(file).map((o) => `${o.kind}/${o.metadata.namespace}`)).toEqual(['Deployment/default', 'Service/default']);
  });

  it('puts the project into the namespace -n names instead, creating none', () => {
    const r = manifestsToObjects([{ path: 'compose.yaml', text: 'services:\n  db:\n    image: postgres\n    restart: always\n', dir: '/srv/homelab' }], { composeNamespace: 'edge' });
    expect(r.problems).toEqual([]);
    expect(r.objects.map((o) => `${o.kind}/${(o.metadata as any).namespace}/${o.metadata.name}`)).toEqual(['Deployment/edge/db', 'Service/edge/db']);
    // The project (and so the labels and pod template) stays the directory's.
    expect(r.objects[0]!.metadata.labels).toEqual(sel('homelab', 'db'));
  });

  it('keeps two projects with the same service names apart', () => {
    const file = (name: string) => ({ path: `${name}/compose.yaml`, text: `name: ${name}\nservices:\n  db:\n    image: postgres\n    restart: always\n` });
    const r = manifestsToObjects([file('one'), file('two')]);
    expect(r.problems).toEqual([]);
    expect(r.objects.filter((o) => o.metadata.name === 'db').map((o) => `${o.kind}/${(o.metadata as any).namespace}`)).toEqual([
      'Deployment/one',
      'Service/one',
      'Deployment/two',
      'Service/two',
    ]);
  });
});

describe('a Service per compose service', () => {
  it('gives each service a ClusterIP Service with its ports: and expose: container ports', () => {
    const all = objects(STACK);
    expect(find(all, 'Service', 'web')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop', labels: sel('shop', 'web') },
      spec: {
        selector: sel('shop', 'web'),
        ports: [
          { name: 'tcp-80', port: 80, protocol: 'TCP' },
          { name: 'tcp-443', port: 443, protocol: 'TCP' },
          { name: 'tcp-9000', port: 9000, protocol: 'TCP' },
          { name: 'udp-53', port: 53, protocol: 'UDP' },
        ],
      },
    });
    // ports: publish on the node (hostPort); expose: only declares the container port.
    expect(find(all, 'Deployment', 'web').spec.template.spec.containers[0].ports).toEqual([
      { containerPort: 80, hostPort: 8080, protocol: 'TCP' },
      { containerPort: 443, hostPort: 443, protocol: 'TCP' },
      { containerPort: 9000, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ]);
  });

  it('makes a headless Service of a service without ports, so its name still resolves to its pods', () => {
    expect(find(objects(STACK), 'Service', 'cache')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'cache', namespace: 'shop', labels: sel('shop', 'cache') },
      spec: { clusterIP: 'None', selector: sel('shop', 'cache') },
    });
  });

  it('makes one more Service per alias, selecting the same pods', () => {
    const all = objects(STACK);
    const db = find(all, 'Service', 'db');
    for (const alias of ['database', 'postgres']) expect(find(all, 'Service', alias)).toEqual({ ...db, metadata: { ...db.metadata, name: alias } });
    expect(db.spec).toEqual({ selector: sel('shop', 'db'), ports: [{ name: 'tcp-5432', port: 5432, protocol: 'TCP' }] });
  });

  it('gives a service on the host network no Service, as compose gives it no name', () => {
    const all = objects('services:\n  probe:\n    image: busybox\n    network_mode: host\n');
    expect(all.map((o) => o.kind)).toEqual(['Job']);
    expect(all[0].spec.template.spec.hostNetwork).toBe(true);
    expect(all[0].spec.template.metadata.labels).toEqual(sel('default', 'probe'));
  });

  it('accepts network_mode bridge as the default network', () => {
    const all = objects('services:\n  a:\n    image: busybox\n    network_mode: bridge\n');
    expect(all.map((o) => o.kind)).toEqual(['Job', 'Service']);
    // One plain network: nothing to isolate, so no network labels (templates as before).
    expect(all[0].spec.template.metadata.labels).toEqual(sel('default', 'a'));
  });
});

describe('networks', () => {
  it('labels pods with the networks they joined, and whether each is internal', () => {
    const all = objects(STACK);
    const labels = (name: string) => find(all, 'Deployment', name).spec.template.metadata.labels;
    expect(labels('web')).toEqual({ ...sel('shop', 'web'), 'network.compose.grove.io/front': 'bridge', 'network.compose.grove.io/back': 'internal' });
    expect(labels('db')).toEqual({ ...sel('shop', 'db'), 'network.compose.grove.io/back': 'internal' });
    // The whole project's topology on every pod, so the node running it knows who may reach it.
    for (const name of ['web', 'db', 'cache']) {
      expect(find(all, 'Deployment', name).spec.template.metadata.annotations).toEqual({ 'grove.io/compose-networks': 'cache=back;db=back;web=front,back' });
    }
    // The workload's own labels (and selector) stay the compose ones.
    expect(find(all, 'Deployment', 'web').metadata.labels).toEqual(sel('shop', 'web'));
  });

  it('puts a service that names no network on default', () => {
    const all = objects('name: p\nservices:\n  a:\n    image: busybox\nnetworks:\n  default:\n    internal: true\n');
    expect(find(all, 'Job', 'a').spec.template.metadata.labels).toEqual({ ...sel('p', 'a'), 'network.compose.grove.io/default': 'internal' });
    // One network in use: nothing to isolate, no topology.
    expect(find(all, 'Job', 'a').spec.template.metadata.annotations).toBeUndefined();
  });

  it.each([
    ['an undefined network', '    networks: [back]\n', '', 'compose.yaml:5 (document 1, service "a"): services.a.networks[0]: network "back" is not defined under the file\'s networks:'],
    ['a static address', '    networks:\n      back: { ipv4_address: 10.5.0.5 }\n', 'networks:\n  back: {}\n', 'services.a.networks.back.ipv4_address: not supported: pods get their address from their node\'s pod CIDR; reach the service by its name'],
    ['IPAM', '', 'networks:\n  back:\n    ipam: { config: [{ subnet: 10.5.0.0/16 }] }\n', 'networks.back.ipam: not supported: pods get their address from their node\'s pod CIDR'],
    ['another driver', '', 'networks:\n  back: { driver: overlay }\n', 'networks.back.driver: "overlay" must be bridge: a project network is a scope inside the cluster\'s pod network'],
    ['networks with the host network', '    network_mode: host\n    networks: [default]\n', '', 'services.a.networks: cannot be combined with network_mode: host'],
    ['an alias that is not a DNS label', '    networks:\n      default: { aliases: [My_DB] }\n', '', 'services.a.networks.default.aliases[0]: "My_DB" must be a DNS label (lowercase letters, digits and \'-\'): Grove makes a Service of each alias'],
    ['an alias taking another service\'s name', '    networks:\n      default: { aliases: [b] }\n  b:\n    image: busybox\n', '', 'services.a.networks.default.aliases[0]: "b" is the name of another service'],
    ['an unknown network_mode', '    network_mode: weird\n', '', 'services.a.network_mode: "weird" must be host or bridge'],
    ['an external network', '    networks: [shared]\n', 'networks:\n  shared: { external: true }\n', 'networks.shared.external: true is not supported: a project network exists only inside its project'],
  ])('refuses %s with the reason', (_what, service, top, message) => {
    expect(problems(`name: p\nservices:\n  a:\n    image: busybox\n${service}${top}`).join('\n')).toContain(message);
  });

  it('accepts `external: false`, compose\'s default written out', () => {
    expect(problems('name: p\nservices:\n  a:\n    image: busybox\n    networks: [back]\nnetworks:\n  back: { external: false }\n')).toEqual([]);
  });

  it('refuses one alias on two services, naming both', () => {
    const text = 'services:\n  a:\n    image: x\n    networks:\n      default: { aliases: [db] }\n  b:\n    image: x\n    networks:\n      default: { aliases: [db] }\n';
    expect(problems(text)).toEqual([
      'compose.yaml:9 (document 1, service "b"): services.b.networks.default.aliases[0]: "db" is also the name of service "a" in document 1: names must be unique',
    ]);
  });
});
