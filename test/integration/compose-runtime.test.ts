/**
 * Compose's runtime fields with real containers (issue 16 item 3): `init: true` puts grove-shim
 * init at PID 1 (orphans reaped, no zombies left), `ulimits` are the process's limits,
 * `stop_signal` is what a stop sends (through the init to the command), `dns_search` lands in
 * resolv.conf, a `links` alias resolves to the linked service, and `grove compose ps|logs` show
 * the project. The app prints what it sees; the test reads it with `grove compose logs`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

const SUFFIX = randomBytes(4).toString('hex');
const PROJECT = `crt-${SUFFIX}`;
const SEARCH = `s${SUFFIX}.example`;

describeWith(['root', 'runc', 'registry', 'shim'], 'compose runtime fields (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let file: string;
  let up: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-compose-rt-', 'node-a');
    cluster = env.cluster;
    file = join(env.scratch, 'compose.yaml');
    await mkdir(join(env.scratch, 'out'));
    const app = [
      'for i in 1 2 3; do (sleep 0.2 &); done; sleep 2',
      'echo PID1=$$(tr "\\0" " " < /proc/1/cmdline)',
      'echo ZOMBIES=$$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z ")',
      'echo NOFILE=$$(ulimit -Sn)/$$(ulimit -Hn)',
      `grep -q "search.*${SEARCH}" /etc/resolv.conf && echo SEARCH=ok`,
      'for i in 1 2 3 4 5 6 7 8 9 10; do R=$$(echo ping | nc -w 2 buddy 7000) && [ -n "$$R" ] && break; sleep 1; done; echo LINK=$$R',
      "trap 'echo INT > /out/signal; exit 0' INT; trap 'echo TERM > /out/signal; exit 0' TERM",
      'while true; do sleep 1; done',
    ].join('; ');
    await writeFile(
      file,
      [
        `name: ${PROJECT}`,
        'services:',
        '  app:',
        `    image: ${env.registry.host}/test/busybox:1`,
        '    restart: always',
        '    init: true',
        '    stop_signal: SIGINT',
        '    stop_grace_period: 5s',
        '    ulimits: {nofile: {soft: 1000, hard: 2000}}',
        `    dns_search: ${SEARCH}`,
        '    logging: {driver: json-file, options: {max-size: 64k, max-file: "2"}}',
        '    links: ["peer:buddy"]',
        '    volumes: ["./out:/out"]',
        `    command: ["sh", "-c", ${JSON.stringify(app)}]`,
        '  peer:',
        `    image: ${env.registry.host}/test/busybox:1`,
        '    restart: always',
        '    expose: ["7000"]',
        '    command: ["sh", "-c", "while true; do echo pong | nc -l -p 7000; done"]',
        '',
      ].join('\n'),
    );
    up = await cluster.grove(['compose', 'up', '-f', file]);
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('brings the project up', () => {
    expect(up.code, up.stderr).toBe(0);
  });

  it('runs the command under grove-shim init, which reaps orphans, with the ulimits, dns_search and the link alias', async () => {
    const log = await eventually(async () => {
      const r = await cluster.grove(['compose', 'logs', '-f', file, 'app']);
      return r.stdout.includes('LINK=') ? r.stdout : undefined;
    }, 120_000, 'the app printing what it sees');
    expect(log).toMatch(/^app-[a-z0-9-]+ \| PID1=\/\.grove\/init init -- sh -c /m);
    expect(log).toContain('ZOMBIES=0');
    expect(log).toContain('NOFILE=1000/2000');
    expect(log).toContain('SEARCH=ok');
    expect(log).toContain('LINK=pong');
  }, 150_000);

  it('lists both services with grove compose ps', async () => {
    const ps = await eventually(async () => {
      const r = await cluster.grove(['compose', 'ps', '-f', file]);
      return r.code === 0 && (r.stdout.match(/Running 1\/1/g) ?? []).length === 2 ? r.stdout : undefined;
    }, 60_000, 'both services running in compose ps');
    const rows = ps.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+IMAGE\s+SERVICE\s+STATUS\s+NODE\s+PORTS$/);
    expect(rows.slice(1).map((r) => r.split(/\s{3,}/)[2]).sort()).toEqual(['app', 'peer']);
    expect(rows.slice(1).every((r) => r.includes('node-a'))).toBe(true);
  }, 90_000);

  it('stops the container with its stop signal, delivered through the init', async () => {
    const ps = await runGrove(['--data-dir', cluster.agentDir('node-a'), 'ctr', 'ps']);
    const name = ps.stdout.split('\n').map((l) => l.trim().split(/\s+/).at(-1) ?? '').find((n) => n.includes('_app'));
    expect(name, ps.stdout).toBeDefined();
    const stop = await runGrove(['--data-dir', cluster.agentDir('node-a'), 'ctr', 'stop', name!]);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await readFile(join(env!.scratch, 'out', 'signal'), 'utf8')).trim()).toBe('INT');
  }, 60_000);
});
