/**
 * docs/operations.md's option table is generated from the role tables
 * (src/cli/config/options-doc.ts): this fails when they disagree. UPDATE_DOCS=1 rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOC_BEGIN, DOC_END, renderOptionsDoc } from '../../src/cli/config/options-doc.js';
import { REPO_ROOT } from '../support/grove-cli.js';

const DOC = join(REPO_ROOT, 'docs', 'operations.md');

describe('docs/operations.md option table', () => {
  it('is the one generated from the option tables', () => {
    const text = readFileSync(DOC, 'utf8');
    const begin = text.indexOf(DOC_BEGIN);
    const end = text.indexOf(DOC_END);
    const placeholder = text.indexOf('PLACEHOLDER_OPTIONS');
    const current = begin >= 0 && end > begin ? text.slice(begin, end + DOC_END.length) : placeholder >= 0 ? 'PLACEHOLDER_OPTIONS' : '';
    const wanted = renderOptionsDoc();
    if (process.env.UPDATE_DOCS === '1' && current !== '' && current !== wanted) writeFileSync(DOC, text.replace(current, wanted));
    else expect(current, 'run UPDATE_DOCS=1 npx vitest run test/unit/config-doc.test.ts').toBe(wanted);
  });

  it('lists every option of the server and the agent, with its variable', () => {
    const table = renderOptionsDoc();
    for (const flag of ['--restart-backoff', '--node-grace', '--no-agent', '--config', '--server', '--token-file', '--runtime', '--data-dir', '--log-level']) expect(table).toContain(`\`${flag}\``);
    expect(table).toContain('`GROVE_RESTART_BACKOFF` (`GROVE_RESTART_BACKOFF_SECONDS`, deprecated)');
  });
});
