/**
 * The k8s verbs as commander runs them (flags → requests → the fake server): what the lead
 * wires in at the switch with registerKubeVerbs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandTables } from '../../src/cli/config/command-config.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { GLOBAL_OPTIONS } from '../../src/cli/config/role-options.js';
import { reportError } from '../../src/cli/report.js';
import { makeAct, type ExitState } from '../../src/cli/verb.js';
import { registerKubeVerbs } from '../../src/cli/verbs/client/k8s/index.js';
import type { AnyObject } from '../../src/core/objects/changes.js';
import { capture, fakeKubeApi, kubeList, notFound, TOKEN, type FakeApi } from './cli-k8s-fake-api.js';
import { deployment, pod, running } from './cli-k8s-fixtures.js';

const web = deployment('web', 1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 });
const pods = [pod('web-1', { phase: 'Running', containerStatuses: [running('web')] })];
const PASSWORD = 's3cret-value';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const dbSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', data: { password: b64(PASSWORD), user: b64('admin') } };

let api: FakeApi;
let dir: string;
const loaded: string[][] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-k8s-verbs-'));
  api = await fakeKubeApi({
    'GET /apis/apps/v1/namespaces/shop/deployments': [200, kubeList('Deployment', [web])],
    'GET /api/v1/pods?labelSelector=app%3Dweb': [200, kubeList('Pod', pods)],
    // The server selects by field: the CLI prints what it answers.
    'GET /api/v1/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dpi-9': [200, kubeList('Pod', [])],
    'GET /api/v1/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dpi-1': [200, kubeList('Pod', pods)],
    'DELETE /apis/apps/v1/namespaces/default/deployments/web': [200, web],
    'DELETE /apis/apps/v1/namespaces/default/deployments/gone': [404, notFound('deployments.apps', 'gone')],
    'GET /api/v1/namespaces/default/pods/web-1': [200, pods[0]],
    'GET /api/v1/namespaces/default/secrets/db': [200, dbSecret],
    'GET /api/v1/namespaces/default/secrets': [200, kubeList('Secret', [dbSecret])],
  });
  await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: api.url, token: TOKEN }));
});

afterEach(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
  loaded.length = 0;
});

/** Runs `grove <args>` with only the k8s verbs registered; `-f` files load as `web` Deployments. */
async function grove(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const exit: ExitState = { code: 0 };
  const program = new Command('grove').exitOverride().configureOutput({ writeOut: (s) => c.io.stdout.write(s), writeErr: (s) => c.io.stderr.write(s) });
  const tables = new CommandTables();
  tables.declare(program, GLOBAL_OPTIONS);
  const act = makeAct(c.io, fixedEnvironment({ GROVE_LOG_LEVEL: 'silent' }), exit, tables);
  registerKubeVerbs(program, act, async (paths) => {
    loaded.push(paths);
    return [web as AnyObject];
  });
  let code = 0;
  try {
    await program.parseAsync(['--data-dir', dir, ...args], { from: 'user' });
    code = exit.code;
  } catch (err) {
    reportError(err, c.io, false);
    code = 1;
  }
  return { code, out: c.out(), err: c.err() };
}

describe('k8s verbs through commander', () => {
  it('get -n NS -o name', async () => {
    expect(await grove(['get', 'deploy', '-n', 'shop', '-o', 'name'])).toEqual({ code: 0, out: 'deployment.apps/web\n', err: '' });
  });

  it('get -A -l SELECTOR', async () => {
    const r = await grove(['get', 'po', '-A', '-l', 'app=web']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toMatch(/^default +web-1 +1\/1 +Running +0 +\S+$/);
  });

  it('get --field-selector: what runs on one board, selected by the server', async () => {
    const r = await grove(['get', 'pods', '-A', '-l', 'app=web', '--field-selector', 'spec.nodeName=pi-9', '-o', 'name']);
    expect(r).toEqual({ code: 0, out: '', err: 'No resources found\n' });
    expect((await grove(['get', 'pods', '-A', '-l', 'app=web', '--field-selector', 'spec.nodeName=pi-1', '-o', 'name'])).out).toBe('pod/web-1\n');
  });

  it('get secret -o json|yaml shows each key\'s size, the data itself only with --show-values', async () => {
    const one = JSON.parse((await grove(['get', 'secret', 'db', '-o', 'json'])).out) as { data: Record<string, unknown> };
    expect(one.data).toEqual({ password: PASSWORD.length, user: 5 });
    const listed = await grove(['get', 'secrets', '-o', 'yaml']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ {6}password: 12$/m);
    for (const r of [listed, await grove(['get', 'secret', 'db', '-o', 'yaml'])]) expect(r.out).not.toContain(b64(PASSWORD));
    const shown = JSON.parse((await grove(['get', 'secret', 'db', '-o', 'json', '--show-values'])).out) as { data: Record<string, unknown> };
    expect(shown.data).toEqual(dbSecret.data);
  });

  it('describe pod NAME', async () => {
    const r = await grove(['describe', 'pod', 'web-1']);
    expect(r.out).toMatch(/^Name: +web-1$/m);
  });

  it('delete -f FILE uses the injected loader; delete TYPE NAME reports what is missing in kubectl\'s words', async () => {
    expect(await grove(['delete', '-f', 'web.yaml'])).toEqual({ code: 0, out: 'deployment.apps "web" deleted\n', err: '' });
    expect(loaded).toEqual([['web.yaml']]);
    const missing = await grove(['delete', 'deployment', 'gone']);
    expect(missing).toEqual({ code: 1, out: '', err: 'grove: Error from server (NotFound): deployments.apps "gone" not found\n' });
    expect((await grove(['delete', 'deployment', 'gone', '--ignore-not-found'])).code).toBe(0);
  });
});
