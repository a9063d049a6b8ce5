/**
 * The join token off argv (src/cli/roles/join-token-source.ts) and the token verbs' pure parts
 * (src/cli/verbs/client/token.ts).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseJoinToken, readTokenFile } from '../../src/cli/roles/join-token-source.js';
import { TOKEN_CREATE_OPTIONS, tokenRows } from '../../src/cli/verbs/client/token.js';
import { ErrorCode } from '../../src/core/errors.js';
import { captureLog } from '../support/log-capture.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { originText, resolveTable } from '../../src/cli/config/resolve.js';
import { AGENT_OPTIONS } from '../../src/cli/config/role-options.js';
import type { Logger } from '../../src/core/logger.js';

/** The token choice as `grove agent` makes it: options resolved from flags and variables first. */
function choose(flags: Record<string, string>, vars: Record<string, string>, logger: Logger) {
  const { values, origins } = resolveTable(AGENT_OPTIONS, { flags: new Map(Object.entries(flags)), env: fixedEnvironment(vars) });
  const from = origins.token;
  const token = values.token !== undefined && from ? { value: values.token, source: originText(from), flag: from.from === 'flag' } : undefined;
  return chooseJoinToken({ token, tokenFile: values.tokenFile }, logger);
}

const TOKEN = 'grove1.insecure.0123abcd.' + 'a'.repeat(43);

describe('where the agent takes its join token from', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-token-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--token wins (with a warning about ps), then --token-file, then $GROVE_TOKEN_FILE, then $GROVE_TOKEN', async () => {
    const file = join(dir, 'join-token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    const other = join(dir, 'other');
    await writeFile(other, 'grove1.insecure.ffffffff.' + 'b'.repeat(43), { mode: 0o600 });
    const { logger, text } = captureLog('info');
    expect(await choose({ token: 'argv-token', tokenFile: file }, { GROVE_TOKEN: 'env' }, logger)).toEqual({ token: 'argv-token', source: '--token' });
    expect(text()).toContain('--token shows the join token to every user in the process list (ps)');
    expect(await choose({ tokenFile: file }, { GROVE_TOKEN_FILE: other, GROVE_TOKEN: 'env' }, logger)).toEqual({ token: TOKEN, source: file });
    expect((await choose({}, { GROVE_TOKEN_FILE: other, GROVE_TOKEN: 'env' }, logger))?.source).toBe(other);
    expect(await choose({}, { GROVE_TOKEN: 'env' }, logger)).toEqual({ token: 'env', source: '$GROVE_TOKEN' });
    expect(await choose({}, { GROVE_TOKEN: '', GROVE_TOKEN_FILE: '' }, logger)).toBeUndefined();
    expect(text()).not.toContain(TOKEN);
  });

  it('reads the first line of a token file, refuses empty, huge, missing files and directories, warns when others may read it', async () => {
    const { logger, text } = captureLog('info');
    const file = join(dir, 'join-token');
    await writeFile(file, `  ${TOKEN}  \nsecond line\n`);
    await chmod(file, 0o644);
    expect(await readTokenFile(file, logger)).toBe(TOKEN);
    expect(text()).toContain('join token file is readable by other users: chmod 600 it');
    await writeFile(file, '\n');
    await expect(readTokenFile(file, logger)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument, message: `join token file ${file} is empty` });
    await writeFile(file, 'x'.repeat(5000));
    await expect(readTokenFile(file, logger)).rejects.toThrow(/larger than 4096 bytes/);
    await expect(readTokenFile(join(dir, 'missing'), logger)).rejects.toThrow(/cannot read the join token file .*missing: ENOENT/);
    await mkdir(join(dir, 'a-dir'));
    await expect(readTokenFile(join(dir, 'a-dir'), logger)).rejects.toThrow(/not a regular file/);
  });
});

describe('grove token', () => {
  it('--uses is a whole number of joins', () => {
    const parseUses = (uses: string) => resolveTable(TOKEN_CREATE_OPTIONS, { flags: new Map([['uses', uses]]), env: fixedEnvironment() }).values.uses;
    expect(parseUses('1')).toBe(1);
    expect(parseUses('250')).toBe(250);
    for (const bad of ['0', '-1', '1.5', 'many', '']) expect(() => parseUses(bad), bad).toThrow(/--uses/);
  });

  it('list rows: id, age, expiry (marked when past), uses left or unlimited', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(
      tokenRows(
        [
          { id: '0123abcd', createdAt: '2026-03-01T10:00:00.000Z', expiresAt: '2026-03-02T10:00:00.000Z', usesLeft: null },
          { id: 'ffff0000', createdAt: '2026-03-01T11:00:00.000Z', expiresAt: '2026-03-01T11:30:00.000Z', usesLeft: 0 },
        ],
        now,
      ),
    ).toEqual([
      ['0123abcd', '120m', '2026-03-02T10:00:00.000Z', 'unlimited'],
      ['ffff0000', '60m', '2026-03-01T11:30:00.000Z (expired)', '0'],
    ]);
  });
});
