/**
 * Compose as docker compose reads it, with real containers (issue 16): container_name is the
 * name `grove ctr ps` shows, a variable from the project's .env reaches the container's
 * environment (an unset one is warned about and empty), and a compose secret is a file at
 * /run/secrets/<name>. One service prints what it got; the test reads its log.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster.js';
import { eventually, runGrove } from '../support/grove-cli.js';
import { startOneNodeCluster, type OneNodeCluster } from '../support/one-node.js';
import { describeWith } from '../support/prereq.js';

const SUFFIX = randomBytes(4).toString('hex');
const PROJECT = `c16-${SUFFIX}`;
const CONTAINER = `ha_${SUFFIX}`;
const GREETING = `hello-${randomBytes(6).toString('hex')}`;
const TOKEN = `token-${randomBytes(6).toString('hex')}`;

describeWith(['root', 'runc', 'registry', 'shim'], 'compose files as docker compose reads them (real containers)', () => {
  let env: OneNodeCluster | undefined;
  let cluster: TestCluster;
  let applied: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    env = await startOneNodeCluster('grove-compose16-', 'node-a');
    cluster = env.cluster;
    const dir = env.scratch;
    await writeFile(join(dir, '.env'), `# project variables\nGREETING="${GREETING}"\n`);
    await writeFile(join(dir, 'token.txt'), TOKEN);
    const script = `echo GREETING=$$GREETING; echo UNSET=[$$UNSET_ONE]; echo SECRET=$$(cat /run/secrets/api_token); trap 'exit 0' TERM; while true; do sleep 1; done`;
    await writeFile(
      join(dir, 'compose.yaml'),
      [
        `name: ${PROJECT}`,
        'services:',
        '  home_assistant:',
        `    image: ${env.registry.host}/test/busybox:1`,
        `    container_name: ${CONTAINER}`,
        '    restart: unless-stopped',
        '    stop_grace_period: 1s',
        '    environment:',
        '      GREETING: ${GREETING}',
        '      UNSET_ONE: ${NOT_SET_ANYWHERE}',
        '    secrets: [api_token]',
        `    command: ["sh", "-c", ${JSON.stringify(script)}]`,
        'secrets:',
        '  api_token:',
        '    file: ./token.txt',
        '',
      ].join('\n'),
    );
    applied = await cluster.grove(['apply', '-f', join(dir, 'compose.yaml')]);
  }, 180_000);

  afterAll(async () => {
    await env?.destroy();
  });

  it('applies, warning once about the unset variable', () => {
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain('warning: The "NOT_SET_ANYWHERE" variable is not set. Defaulting to a blank string.');
    expect(applied.stderr.split('NOT_SET_ANYWHERE').length).toBe(2);
  });

  it('names the container after container_name in grove ctr ps', async () => {
    const ps = await eventually(async () => {
      const r = await runGrove(['--data-dir', cluster.agentDir('node-a'), 'ctr', 'ps']);
      return r.stdout.includes(CONTAINER) ? r.stdout : undefined;
    }, 90_000, 'the named container running');
    const row = ps.split('\n').find((l) => l.includes(CONTAINER))!;
    expect(row.trim().split(/\s+/).at(-1)).toBe(CONTAINER);
  }, 120_000);

  it('gives the container the .env value and the secret as a file', async () => {
    const log = await eventually(async () => {
      const r = await cluster.grove(['logs', 'deploy/home-assistant', '-n', PROJECT]);
      return r.stdout.includes('SECRET=') ? r.stdout : undefined;
    }, 90_000, 'the service printing what it got');
    expect(log).toContain(`GREETING=${GREETING}`);
    expect(log).toContain('UNSET=[]');
    expect(log).toContain(`SECRET=${TOKEN}`);
  }, 120_000);
});
