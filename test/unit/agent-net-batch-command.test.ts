import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../agent/src/runtime/net/batch-command.js';

// A stand-in tool that records its arguments and stdin, and fails when the input says so:
// what reaches the real iptables-restore / ip is exactly this.
describe('runBatch', () => {
  let dir: string;
  let tool: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-batch-'));
    tool = join(dir, 'tool');
    await writeFile(tool, `#!/bin/sh\necho "$@" > ${dir}/args\ncat > ${dir}/stdin\nif grep -q FAIL ${dir}/stdin; then echo "line 2: bad rule" >&2; exit 2; fi\n`);
    await chmod(tool, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('feeds the whole input on stdin with the tool\'s batch arguments', async () => {
    await runBatch('iptables-restore', '*nat\n:GROVE-X - [0:0]\nCOMMIT\n', { path: tool });
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(dir, 'args'), 'utf8')).trim()).toBe('--noflush --wait');
    expect(await readFile(join(dir, 'stdin'), 'utf8')).toBe('*nat\n:GROVE-X - [0:0]\nCOMMIT\n');
    await runBatch('ip', 'route show\n', { path: tool });
    expect((await readFile(join(dir, 'args'), 'utf8')).trim()).toBe('-batch -');
  });

  it('names the tool and its first error line when the transaction fails', async () => {
    await expect(runBatch('ip', 'FAIL\n', { path: tool })).rejects.toMatchObject({
      code: 'RUNTIME_FAILED',
      message: 'ip transaction failed (exit 2): line 2: bad rule',
    });
  });

  it('runs nothing for an empty transaction', async () => {
    await expect(runBatch('ip', '', { path: join(dir, 'missing') })).resolves.toBeUndefined();
  });
});
