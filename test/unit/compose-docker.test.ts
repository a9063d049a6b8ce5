/**
 * Compose as docker compose reads it (issue 16 items 3-4): variables from the shell and `.env`,
 * env_file, extends, profiles, container_name, `_` in service names, labels as free text,
 * secrets and configs, bind hints and the refusals that say why. Translation asserted as data.
 */
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/core/manifests/compose-env.js';
import type { ComposeHost } from '../../src/core/manifests/compose-prepare.js';
import { interpolate } from '../../src/core/manifests/compose-text.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const DIR = '/srv/app';
function host(files: Record<string, string> = {}, environment: Record<string, string> = {}, extra: Partial<ComposeHost> = {}): ComposeHost {
  return { environment, readText: (p) => files[p], ...extra };
}
function translate(text: string, h: ComposeHost = host()) {
  return manifestsToObjects([{ path: 'compose.yaml', text, dir: DIR }], { compose: h });
}
function objects(text: string, h?: ComposeHost): any[] {
  const r = translate(text, h);
  expect(r.problems.map((p) => p.text)).toEqual([]);
  return r.objects;
}
const find = (all: any[], kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (o: any) => o.spec.template.spec;
const envOf = (o: any) => Object.fromEntries((podSpec(o).containers[0].env ?? []).map((e: any) => [e.name, e.value]));
const lines = (text: string, h?: ComposeHost) => translate(text, h).problems.map((p) => p.text);

describe('compose interpolation with variables', () => {
  const vars = (map: Record<string, string>, unset: string[] = []) => ({ get: (n: string) => map[n], unset: (n: string) => unset.push(n) });
  it.each([
    ['${A}', 'a'],
    ['$A-$B', 'a-'],
    ['${E:-d}', 'd'],
    ['${E-d}', ''],
    ['${U-d}', 'd'],
    ['${A:+x}', 'x'],
    ['${E:+x}', ''],
    ['${E+x}', 'x'],
    ['${U+x}', ''],
    ['$$A', '$A'],
    ['${U:-${A}}', 'a'],
  ])('%j → %j', (text, out) => {
    expect(interpolate(text, vars({ A: 'a', E: '' }))).toBe(out);
  });

  it('tells each unset use, but not of a default it does not use', () => {
    const unset: string[] = [];
    interpolate('${A:-${B}} $C ${D-x}', vars({ A: 'a' }, unset));
    expect(unset).toEqual(['C']);
  });

  it('fails :? on unset or empty, ? on unset only', () => {
    expect(() => interpolate('${E:?give E}', vars({ E: '' }))).toThrow('variable E is required: give E (it is empty)');
    expect(interpolate('${E?x}', vars({ E: '' }))).toBe('');
    expect(() => interpolate('${U?x}', vars({}))).toThrow('variable U is required: x (it is not set)');
  });
});

describe('env files', () => {
  const none = { get: () => undefined };
  it('reads docker compose env-file syntax', () => {
    const text = [
      '# comment',
      'export A=1',
      'B = two words # trailing comment',
      "C='literal $A \\n'",
      'D="line\\nnext $A"',
      'E="multi',
      'line"',
      'F=${A}-${NOPE:-x}',
      'G=',
      'SHELL_ONLY',
      '',
    ].join('\n');
    const out = parseEnvFile(text, { get: (n) => (n === 'SHELL_ONLY' ? 'from-shell' : undefined) });
    expect(Object.fromEntries(out)).toEqual({ A: '1', B: 'two words', C: 'literal $A \\n', D: 'line\nnext 1', E: 'multi\nline', F: '1-x', G: '', SHELL_ONLY: 'from-shell' });
  });

  it('says the line of a problem', () => {
    expect(() => parseEnvFile('A=1\n1BAD=2\n', none)).toThrow(/not a variable name/);
    try {
      parseEnvFile('A=1\nB="open\n', none);
    } catch (err) {
      expect((err as { line: number }).line).toBe(2);
    }
  });
});

describe('compose files with the applying machine', () => {
  const file = 'services:\n  web:\n    image: "busybox:${TAG:-1.36}"\n    restart: always\n    environment:\n      MODE: $MODE\n      WHO: ${WHO}\n      FROM_SHELL:\n';

  it('takes variables from the shell over the project .env, warning once per unset name', () => {
    const r = translate(file + '    command: ["echo", "${WHO}"]\n', host({ [`${DIR}/.env`]: 'TAG=1.37\nMODE=dotenv\nFROM_SHELL=dotenv\n' }, { MODE: 'shell' }));
    expect(r.problems).toEqual([]);
    const web = find(r.objects, 'Deployment', 'web');
    expect(podSpec(web).containers[0].image).toBe('busybox:1.37');
    expect(envOf(web)).toEqual({ MODE: 'shell', WHO: '', FROM_SHELL: 'dotenv' });
    expect(r.warnings).toEqual(['The "WHO" variable is not set. Defaulting to a blank string.']);
  });

  it('reads --env-file instead of .env, and refuses one that does not exist', () => {
    const files = { [`${DIR}/.env`]: 'TAG=from-dotenv\n', '/etc/prod.env': 'TAG=prod\n' };
    expect(podSpec(find(objects(file, host(files, {}, { envFiles: ['/etc/prod.env'] })), 'Deployment', 'web')).containers[0].image).toBe('busybox:prod');
    expect(lines(file, host(files, {}, { envFiles: ['/etc/none.env'] }))).toEqual(['/etc/none.env: no such env file (--env-file)']);
  });

  it('merges env_file under environment, files in order, relative to the project', () => {
    const text = 'services:\n  web:\n    image: busybox\n    env_file: [common.env, {path: ./local.env, required: false}, ./db.env]\n    environment: [B=over, C]\n';
    const files = { [`${DIR}/common.env`]: 'A=1\nB=1\n', [`${DIR}/db.env`]: 'A=2\nPASSWORD="s3 cret"\n' };
    expect(envOf(find(objects(text, host(files, { C: 'shell' })), 'Job', 'web'))).toEqual({ A: '2', B: 'over', PASSWORD: 's3 cret', C: 'shell' });
    expect(lines(text, host({}))).toEqual([
      'compose.yaml:4 (document 1, service "web"): services.web.env_file[0]: "common.env": no such file (read from the machine that applies; required: false makes it optional)',
    ]);
  });

  it('names the container with container_name, recreating it on update; refuses it with replicas > 1', () => {
    const web = find(objects('services:\n  ha:\n    image: busybox\n    restart: unless-stopped\n    container_name: homeassistant\n'), 'Deployment', 'ha');
    expect(web.spec.template.metadata.annotations).toEqual({ 'grove.io/container-name': 'homeassistant' });
    expect(web.spec.strategy).toEqual({ type: 'Recreate' });
    expect(lines('services:\n  ha:\n    image: busybox\n    restart: always\n    container_name: ha\n    deploy: {replicas: 2}\n')).toEqual([
      'compose.yaml:5 (document 1, service "ha"): services.ha.container_name: cannot be combined with deploy.replicas: 2 (a container name is unique on its node; docker compose refuses it too)',
    ]);
    expect(lines('services:\n  ha:\n    image: busybox\n    container_name: "bad name"\n')[0]).toContain('services.ha.container_name: "bad name" must be a container name');
  });

  it('reads restart: on-failure:N as the retry limit and platform as the node architecture', () => {
    const job = find(objects('services:\n  t:\n    image: busybox\n    restart: on-failure:3\n    platform: linux/arm64\n'), 'Job', 't');
    expect(job.spec.backoffLimit).toBe(3);
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
    expect(job.spec.template.metadata.annotations).toEqual({ 'grove.io/arch': 'arm64' });
    expect(lines('services:\n  t:\n    image: busybox\n    platform: windows/amd64\n')[0]).toContain('services.t.platform: "windows/amd64" must be linux/ARCH[/VARIANT]');
  });

  it('mounts a memory /dev/shm of shm_size', () => {
    const spec = podSpec(find(objects('services:\n  db:\n    image: postgres:16\n    shm_size: 256m\n'), 'Job', 'db'));
    expect(spec.volumes).toEqual([{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'shm', mountPath: '/dev/shm' }]);
  });

  it('runs services of the active profiles only', () => {
    const text = 'services:\n  app:\n    image: busybox\n  debug:\n    image: busybox\n    profiles: [debug]\n';
    expect(objects(text).filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual(['app']);
    expect(objects(text, host({}, {}, { profiles: ['debug'] })).filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual(['app', 'debug']);
  });

  it('resolves extends in the file and from another file', () => {
    const text = [
      'services:',
      '  base:',
      '    image: busybox',
      '    environment: {A: "1", B: "1"}',
      '    ports: ["80:80"]',
      '    profiles: [never]',
      '  web:',
      '    extends: base',
      '    restart: always',
      '    environment: [B=2]',
      '    ports: ["443:443"]',
      '    profiles: []',
      '  worker:',
      '    extends: {file: common.yaml, service: worker}',
      '',
    ].join('\n');
    const files = { [`${DIR}/common.yaml`]: 'services:\n  worker:\n    image: alpine:3\n    command: ["work"]\n    restart: always\n' };
    const all = objects(text, host(files));
    const web = find(all, 'Deployment', 'web');
    expect(envOf(web)).toEqual({ A: '1', B: '2' });
    expect(podSpec(web).containers[0].ports.map((p: any) => p.containerPort)).toEqual([80, 443]);
    expect(podSpec(find(all, 'Deployment', 'worker')).containers[0]).toMatchObject({ image: 'alpine:3', args: ['work'] });
    expect(lines('services:\n  a:\n    extends: b\n  b:\n    extends: a\n    image: x\n')[0]).toContain('extends more than 8 services deep');
  });

  it('reads x- fields, anchors and merge keys, ignores version, and null fields as unset', () => {
    const text = [
      'version: "3.8"',
      'x-common: &common',
      '  restart: unless-stopped',
      '  environment: {TZ: Europe/Berlin}',
      'services:',
      '  a:',
      '    <<: *common',
      '    image: busybox',
      '    privileged: null',
      '    x-note: anything',
      '',
    ].join('\n');
    const a = find(objects(text), 'Deployment', 'a');
    expect(envOf(a)).toEqual({ TZ: 'Europe/Berlin' });
    expect(podSpec(a).containers[0].securityContext).toBeUndefined();
  });

  it("keeps a service name with '_' in the labels and derives the objects' DNS name", () => {
    const all = objects('services:\n  home_assistant:\n    image: busybox\n    restart: always\n    ports: ["8123:8123"]\n  zigbee2mqtt:\n    image: busybox\n    restart: always\n    depends_on: [home_assistant]\n');
    const ha = find(all, 'Deployment', 'home-assistant');
    expect(ha.metadata.labels['com.docker.compose.service']).toBe('home_assistant');
    expect(podSpec(ha).containers[0].name).toBe('home-assistant');
    expect(find(all, 'Service', 'home-assistant').spec.selector['com.docker.compose.service']).toBe('home_assistant');
    expect(find(all, 'Deployment', 'zigbee2mqtt').spec.template.metadata.annotations['grove.io/depends-on']).toBe('home-assistant:started');
  });

  it("writes the network topology by the objects' names, which the node reaches from the label", () => {
    const all = objects('services:\n  home_assistant:\n    image: busybox\n    restart: always\n    networks: [a]\n  db:\n    image: busybox\n    restart: always\n    networks: [b]\nnetworks:\n  a:\n  b:\n');
    expect(find(all, 'Deployment', 'home-assistant').spec.template.metadata.annotations['grove.io/compose-networks']).toBe('db=b;home-assistant=a');
  });

  it('keeps docker labels that are not Kubernetes labels as annotations', () => {
    const long = `com.example.${'k'.repeat(70)}`;
    const text = `services:\n  ha:\n    image: busybox\n    restart: always\n    labels:\n      traefik.enable: "true"\n      traefik.http.routers.ha.rule: Host(\`ha.example.com\`)\n      homepage.name: Home Assistant\n      homepage.href: https://ha.example.com/\n      ${long}: x\n`;
    const ha = find(objects(text), 'Deployment', 'ha');
    expect(ha.metadata.labels).toMatchObject({ 'traefik.enable': 'true' });
    expect(ha.metadata.annotations).toEqual({
      'traefik.http.routers.ha.rule': 'Host(`ha.example.com`)',
      'homepage.name': 'Home Assistant',
      'homepage.href': 'https://ha.example.com/',
      'compose.grove.io/labels': JSON.stringify({ [long]: 'x' }),
    });
  });

  it('takes :cached and friends as hints and refuses the docker socket with the reason', () => {
    const a = find(objects('services:\n  a:\n    image: busybox\n    volumes: ["./conf:/conf:ro,cached", "/data:/data:delegated"]\n'), 'Job', 'a');
    expect(podSpec(a).containers[0].volumeMounts).toEqual([
      { name: 'bind-0', mountPath: '/conf', readOnly: true },
      { name: 'bind-1', mountPath: '/data' },
    ]);
    expect(lines('services:\n  a:\n    image: busybox\n    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]\n')).toEqual([
      'compose.yaml:4 (document 1, service "a"): services.a.volumes[0]: "/var/run/docker.sock": Grove nodes run no Docker daemon, so there is no Docker API socket to mount (tools that manage containers through it cannot work here)',
    ]);
    expect(lines('services:\n  a:\n    image: busybox\n    volumes: ["db_data:/data"]\nvolumes:\n  db_data:\n')[0]).toContain('give the volume a valid name with volumes: {db_data: {name: db-data}}');
  });

  it('makes secrets and configs objects, mounted where compose mounts them', () => {
    const text = [
      'services:',
      '  db:',
      '    image: postgres:16',
      '    restart: always',
      '    secrets: [db_password, {source: api_key, target: key.txt, mode: 0400}]',
      '    configs: [{source: pg_conf, target: /etc/postgresql/postgresql.conf}, motd]',
      'secrets:',
      '  db_password: {file: ./secrets/db_password.txt}',
      '  api_key: {environment: API_KEY}',
      'configs:',
      '  pg_conf: {content: "max_connections = 20\\n"}',
      '  motd: {file: /etc/motd}',
      '',
    ].join('\n');
    const all = objects(text, host({ [`${DIR}/secrets/db_password.txt`]: 'hunter2', '/etc/motd': 'hi' }, { API_KEY: 'k' }));
    expect(Buffer.from(find(all, 'Secret', 'db-password').data.content, 'base64').toString()).toBe('hunter2');
    expect(Buffer.from(find(all, 'Secret', 'api-key').data.content, 'base64').toString()).toBe('k');
    expect(find(all, 'ConfigMap', 'pg-conf').data).toEqual({ content: 'max_connections = 20\n' });
    const db = podSpec(find(all, 'Deployment', 'db'));
    expect(db.containers[0].volumeMounts).toEqual([
      { name: 'secret-0', mountPath: '/run/secrets/db_password', subPath: 'content', readOnly: true },
      { name: 'secret-1', mountPath: '/run/secrets/key.txt', subPath: 'content', readOnly: true },
      { name: 'config-0', mountPath: '/etc/postgresql/postgresql.conf', subPath: 'content', readOnly: true },
      { name: 'config-1', mountPath: '/motd', subPath: 'content', readOnly: true },
    ]);
    expect(db.volumes[1]).toEqual({ name: 'secret-1', secret: { secretName: 'api-key', items: [{ key: 'content', path: 'content', mode: 0o400 }] } });
  });

  it('lists every problem of a file in one run, each with its line and field, and applies nothing', () => {
    const text = [
      'services:',
      '  web:',
      '    image: busybox',
      '    container_name: web',
      '    deploy: {replicas: 3}',
      '    env_file: missing.env',
      '  db:',
      '    image: postgres',
      '    secrets: [nope]',
      '    volumes: ["/var/run/docker.sock:/s"]',
      'secrets:',
      '  other: {external: true}',
      '',
    ].join('\n');
    const r = translate(text);
    expect(r.objects).toEqual([]);
    expect(r.problems.map((p) => [p.line, p.path])).toEqual([
      [4, 'services.web.container_name'],
      [6, 'services.web.env_file'],
      [9, 'services.db.secrets[0]'],
      [10, 'services.db.volumes[0]'],
      [12, 'secrets.other.external'],
    ]);
  });
});
