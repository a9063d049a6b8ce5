/**
 * Runs the whole `grove` command table in-process (program.ts main) against a fake server: a
 * data dir whose client.json points at `apiUrl`; what the verb printed and its exit code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { main } from '../../src/cli/program.js';
import { afterEach } from 'vitest';
import type { ApplyAction } from '../../src/cli/client/apply-objects.js';
import { capture, fakeKubeApi, TOKEN, type Answer, type FakeApi, type Routes } from './cli-k8s-fake-api.js';

export interface GroveRun {
  code: number;
  out: string;
  err: string;
}

export interface GroveHarness {
  dir: string;
  run(args: string[]): Promise<GroveRun>;
  close(): Promise<void>;
}

export async function groveAgainst(apiUrl: string): Promise<GroveHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'grove-cli-'));
  await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl, token: TOKEN }));
  return {
    dir,
    async run(args) {
      const c = capture();
      const code = await main(['--data-dir', dir, ...args], c.io, fixedEnvironment({ GROVE_LOG_LEVEL: 'silent' }));
      return { code, out: c.out(), err: c.err() };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * For a test file: `setUp(routes)` starts a fake server with those routes and a `grove` pointed
 * at it; both are closed after each test.
 */
export function fakeGroveEachTest(): (routes: Routes) => Promise<{ api: FakeApi; grove: GroveHarness }> {
  let api: FakeApi | undefined;
  let grove: GroveHarness | undefined;
  afterEach(async () => {
    await api?.close();
    await grove?.close();
    api = grove = undefined;
  });
  return async (routes) => {
    api = await fakeKubeApi(routes);
    grove = await groveAgainst(api.url);
    return { api, grove };
  };
}

/** The object apply's answer to a request: `action` for every object (or per index). */
export function applyAnswer(action: ApplyAction | ((index: number) => ApplyAction)): (body: unknown) => Answer {
  return (body) => {
    const { objects } = body as { objects: { kind: string; metadata: { name: string; namespace?: string } }[] };
    const results = objects.map((o, i) => ({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), action: typeof action === 'function' ? action(i) : action }));
    return [200, { results }];
  };
}
