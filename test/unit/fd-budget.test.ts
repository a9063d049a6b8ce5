import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FD_RESERVE, fdBudgetProblem, warnIfOverFdLimit } from '../../src/cli/roles/fd-budget.js';
import { capturingLogger } from '../support/capture-logger.js';

describe('connection caps against the open-file limit', () => {
  it('fits when both caps and the reserve stay under the limit', () => {
    expect(fdBudgetProblem(20_000, { apiConnections: 10_000, mqttConnections: 5000 })).toBeUndefined();
    expect(fdBudgetProblem('unlimited', { apiConnections: 10_000, mqttConnections: 5000 })).toBeUndefined();
    expect(fdBudgetProblem(undefined, { apiConnections: 10_000 })).toBeUndefined();
    expect(fdBudgetProblem(10_000 + FD_RESERVE, { apiConnections: 10_000 })).toBeUndefined();
  });

  it('says what does not fit and what to change', () => {
    expect(fdBudgetProblem(1024, { apiConnections: 10_000, mqttConnections: 5000 })).toBe(
      `--max-api-connections 10000 + --mqtt-max-connections 5000 + ${FD_RESERVE} for the rest of the server = ${15_000 + FD_RESERVE} file descriptors, more than the open-file limit of 1024: ` +
        'at that limit the API and the broker refuse every connection; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n) or lower the caps',
    );
    // An external broker's sockets are not in this process.
    expect(fdBudgetProblem(4096, { apiConnections: 4000 })).toMatch(/^--max-api-connections 4000 \+ 512 for the rest/);
  });

  it('reads the soft limit from /proc/<pid>/limits and warns at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-fd-'));
    try {
      const limits = join(dir, 'limits');
      await writeFile(limits, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n');
      const log = capturingLogger();
      await warnIfOverFdLimit(log.logger, { apiConnections: 10_000, mqttConnections: 5000 }, limits);
      expect(log.lines()).toEqual([expect.objectContaining({ level: 40, openFileLimit: 1024, apiConnections: 10_000, mqttConnections: 5000 })]);
      const quiet = capturingLogger();
      await warnIfOverFdLimit(quiet.logger, { apiConnections: 100 }, limits);
      await warnIfOverFdLimit(quiet.logger, { apiConnections: 100_000 }, join(dir, 'missing'));
      expect(quiet.lines()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
