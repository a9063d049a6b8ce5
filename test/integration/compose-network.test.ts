/**
 * Compose networking through a one-node cluster with real containers (docs/networking.md
 * "Compose networking"): two projects with the same service names, each in its own namespace,
 * where `web` reaches its own project's `db` by name and by alias (its Services, through the
 * cluster DNS and the service proxy) and gets that project's answer; and a project with several
 * networks whose isolation the node enforces: a service sharing no network with `db` cannot
 * connect to it, by name or by address; a service only on an `internal` network reaches its
 * peers but not an address outside (a network namespace on a bridge of the test's own), which
 * a service on a plain network reaches. A service named `my_cache` (no DNS label: its Service is
 * `my-cache`) answers to both names. Removing the projects removes the node's chain.
 *
 * The clients run in the pods' containers (nsenter), with busybox `nc`: their own resolv.conf and
 * resolver, as an app's. (busybox `wget` segfaults on this host: the first draft of this test
 * waited on it in vain.)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { netTag } from '../../agent/src/runtime/pod-sandbox-setup.js';
import { containersIn, killAndWait } from '../support/cluster.js';
import { eventually } from '../support/grove-cli.js';
import { createNetnsLan, type NetnsLan } from '../support/netns-lan.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

const run = promisify(execFile);
const NODE = 'node-a';

async function sh(argv: string[], timeout = 30_000): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  try {
    return (await run(cmd, args, { timeout })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`${argv.join(' ')}: ${(e.stderr || e.stdout || String(err)).trim()}`, { cause: err });
  }
}

describeWith(['root', 'runc', 'registry', 'shim', 'iproute2', 'iptables', 'busybox'], 'compose networking (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let lan: NetnsLan | undefined;
  let outside: ChildProcess | undefined;
  const tag = randomBytes(3).toString('hex');
  const projects = { one: `one-${tag}`, two: `two-${tag}`, nets: `nets-${tag}` };
  const image = (): string => `${env!.registry.host}/test/busybox:1`;
  const chain = (): string => `GRV-${netTag(env!.cluster.agentDir(NODE))}-CNET`;

  /** A service answering `answer` over HTTP on 8080 (compose YAML, indented for `services:`). */
  const httpd = (name: string, answer: string, extra = '') => `  ${name}:
    image: ${image()}
    restart: always
    stop_grace_period: 1s
    expose: ["8080"]
    command: ["sh", "-c", "mkdir -p /tmp/www && echo ${answer} > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
${extra}`;

  const files = (): Record<string, string> => ({
    // my_cache: a compose name that is no DNS label (its Service is my-cache); both resolve.
    [projects.one]: `name: ${projects.one}\nservices:\n${httpd('db', `db-of-${projects.one}`, '    networks:\n      default:\n        aliases: [database]\n')}${httpd('web', 'web')}${httpd('my_cache', `cache-of-${projects.one}`)}`,
    [projects.two]: `name: ${projects.two}\nservices:\n${httpd('db', `db-of-${projects.two}`, '    networks:\n      default:\n        aliases: [database]\n')}${httpd('web', 'web')}`,
    [projects.nets]: `name: ${projects.nets}
services:
${httpd('db', 'db', '    networks: [back, priv]\n')}${httpd('web', 'web', '    networks: [front, back]\n')}${httpd('proxy', 'proxy', '    networks: [front]\n')}${httpd('worker', 'worker', '    networks: [priv]\n')}networks:
  front: {}
  back: {}
  priv:
    internal: true
`,
  });
  const fileOf = (project: string) => join(env!.scratch, project, 'compose.yaml');

  /** The pid of the running container of `service`'s pod in namespace `ns`. */
  const containerPid = async (ns: string, service: string): Promise<number> => {
    const c = (await containersIn(env!.cluster.agentDir(NODE))).find((x) => x.labels['grove.namespace'] === ns && x.labels['grove.pod']?.startsWith(`${service}-`) && x.state === 'running');
    if (!c?.pid) throw new Error(`no running container of ${service} in ${ns}`);
    return c.pid;
  };

  /** One HTTP GET from inside the service's container (its resolv.conf, its resolver): the body, or "failed: why". */
  const get = async (ns: string, from: string, host: string): Promise<string> => {
    const pid = await containerPid(ns, from);
    try {
      const out = await sh(['nsenter', '-t', String(pid), '-m', '-u', '-i', '-n', '-p', '--', '/bin/sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 8080`], 15_000);
      return out.split(/\r?\n\r?\n/)[1]?.trim() || `failed: no body in ${JSON.stringify(out.slice(0, 200))}`;
    } catch (err) {
      return `failed: ${(err as Error).message.slice(-200)}`;
    }
  };

  const podIP = async (ns: string, service: string): Promise<string> => {
    const r = await env!.cluster.grove(['get', 'pods', '-n', ns, '-l', `com.docker.compose.service=${service}`, '-o', 'json']);
    const ip = (JSON.parse(r.stdout) as { items: { status?: { podIP?: string } }[] }).items[0]?.status?.podIP;
    if (!ip) throw new Error(`${service} in ${ns} has no address`);
    return ip;
  };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-compose-net-', NODE);
    // "Outside the cluster": a network namespace on a bridge of the test's own, serving HTTP.
    lan = await createNetnsLan(1);
    const www = join(env.scratch, 'outside');
    await mkdir(www, { recursive: true });
    await writeFile(join(www, 'index.html'), 'outside\n');
    outside = spawn('nsenter', [`--net=/run/netns/${lan.nodes[0]!.ns}`, '--', '/usr/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
    for (const [project, text] of Object.entries(files())) {
      await mkdir(join(env.scratch, project), { recursive: true });
      await writeFile(fileOf(project), text);
      const r = await env.cluster.grove(['apply', '-f', fileOf(project)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('service/db created');
    }
    const wanted: [string, string][] = [
      [projects.one, 'db'], [projects.one, 'web'], [projects.one, 'my-cache'], [projects.two, 'db'], [projects.two, 'web'],
      [projects.nets, 'db'], [projects.nets, 'web'], [projects.nets, 'proxy'], [projects.nets, 'worker'],
    ];
    await eventually(async () => {
      for (const [ns, service] of wanted) if (!(await containerPid(ns, service).catch(() => 0))) return false;
      return true;
    }, 180_000, 'every compose service running');
  }, 300_000);

  afterAll(async () => {
    try {
      await killAndWait(outside, 'SIGKILL');
      await lan?.destroy();
    } finally {
      await env?.destroy();
    }
  }, 120_000);

  it('keeps two projects with the same service names apart: each web reaches its own db, by name and by alias', async () => {
    for (const project of [projects.one, projects.two]) {
      for (const host of ['db', 'database', `db.${project}`]) {
        const answer = await eventually(async () => {
          const r = await get(project, 'web', host);
          return r.startsWith('failed') ? undefined : r;
        }, 60_000, `${host} from ${project}'s web`);
        expect(answer).toBe(`db-of-${project}`);
      }
    }
    // The other project's db, named with its namespace as docs/networking.md says.
    expect(await get(projects.one, 'web', `db.${projects.two}`)).toBe(`db-of-${projects.two}`);
  }, 180_000);

  it('resolves a compose name with \'_\' as written and by its Service\'s derived name', async () => {
    for (const host of ['my_cache', 'my-cache', `my_cache.${projects.one}`]) {
      const answer = await eventually(async () => {
        const r = await get(projects.one, 'web', host);
        return r.startsWith('failed') ? undefined : r;
      }, 30_000, `${host} from ${projects.one}'s web`);
      expect(answer).toBe(`cache-of-${projects.one}`);
    }
    // Not in the other project, which has no such service.
    expect(await get(projects.two, 'web', 'my_cache')).toMatch(/^failed/);
  }, 120_000);

  it('isolates services that share no network: proxy reaches web, not db (by name or address); web reaches both', async () => {
    const ns = projects.nets;
    expect(await eventually(async () => (await get(ns, 'web', 'db')) === 'db', 60_000, 'db from web')).toBe(true);
    expect(await get(ns, 'proxy', 'web')).toBe('web');
    // The node programs the rules after the pods report their addresses: wait for them.
    const refused = await eventually(async () => {
      const r = await get(ns, 'proxy', 'db');
      return r.startsWith('failed') ? r : undefined;
    }, 30_000, 'proxy refused by db');
    expect(refused).toMatch(/^failed/);
    expect(await get(ns, 'proxy', await podIP(ns, 'db'))).toMatch(/^failed/);
    expect(await get(ns, 'web', 'db')).toBe('db');
    const rules = await sh(['iptables', '-w', '-t', 'mangle', '-S', chain()]);
    expect(rules).toContain(`grove: ${ns}: proxy shares no network with db`);
    expect(await sh(['iptables', '-w', '-t', 'mangle', '-S', 'FORWARD'])).toContain(`-A FORWARD -j ${chain()}`);
  }, 180_000);

  it('an internal network\'s service reaches its peers but nothing outside the cluster; others do reach outside', async () => {
    const ns = projects.nets;
    const outsideUrl = lan!.nodes[0]!.ip;
    expect(await eventually(async () => (await get(ns, 'web', outsideUrl)) === 'outside', 30_000, 'outside from web')).toBe(true);
    expect(await get(ns, 'worker', 'db')).toBe('db');
    const refused = await eventually(async () => {
      const r = await get(ns, 'worker', outsideUrl);
      return r.startsWith('failed') ? r : undefined;
    }, 30_000, 'worker kept inside');
    expect(refused).toMatch(/^failed/);
    expect(await sh(['iptables', '-w', '-t', 'mangle', '-S', chain()])).toMatch(new RegExp(`grove: ${ns}/worker-[a-z0-9-]+ is on internal networks only`));
  }, 120_000);

  it('deleting the projects removes the node\'s isolation chain and its jump', async () => {
    for (const project of Object.values(projects)) {
      const r = await env!.cluster.grove(['delete', '-f', fileOf(project)]);
      expect(r.code, r.stderr).toBe(0);
    }
    await eventually(async () => !(await sh(['iptables-save', '-t', 'mangle'])).includes(chain()), 60_000, 'the isolation chain gone');
  }, 120_000);
});
