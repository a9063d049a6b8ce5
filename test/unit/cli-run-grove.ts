/**
 * Runs the whole `grove` command table in-process (program.ts main) against a fake server: a
 * data dir whose client.json points at `apiUrl`; what the verb printed and its exit code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { main } from '../../src/cli/program.js';
import { capture, TOKEN } from './cli-k8s-fake-api.js';

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
