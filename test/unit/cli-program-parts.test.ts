/**
 * `grove server` and `grove agent` run for months: what their start loads stays in memory. The
 * command table is therefore built from parts loaded on demand, and a role registers its part
 * alone, without the client verbs (manifest reading, object validators, output formats).
 */
import { describe, expect, it } from 'vitest';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { buildProgram, ownPartVerb } from '../../src/cli/program.js';
import { importClosure } from '../support/static-imports.js';
import { capture } from './cli-k8s-fake-api.js';

describe('the command table in parts', () => {
  it('finds the verb after the global flags, with or without their values', () => {
    expect(ownPartVerb(['agent', '--server', 'x'])).toBe('agent');
    expect(ownPartVerb(['--data-dir', '/d', '--debug', 'server', 'backup', 'f'])).toBe('server');
    expect(ownPartVerb(['--log-level=info', '--config', 'c.json', 'ctr', 'ps'])).toBe('ctr');
    expect(ownPartVerb(['check'])).toBe('check');
  });

  it('gives the whole table to client verbs, help, versions and unknown flags', () => {
    for (const argv of [['get', 'pods'], [], ['help', 'agent'], ['--help'], ['-v'], ['--bogus', 'agent'], ['--data-dir'], ['--', 'agent']]) {
      expect(ownPartVerb(argv), argv.join(' ')).toBeUndefined();
    }
  });

  it("registers a role's part alone, everything without one", async () => {
    const names = async (only?: string) => (await buildProgram(capture().io, fixedEnvironment({}), { code: 0 }, only)).commands.map((c) => c.name());
    expect(await names('agent')).toEqual(['agent']);
    expect(await names('server')).toEqual(['server']);
    const all = await names();
    for (const verb of ['server', 'agent', 'apply', 'get', 'ctr', 'check', 'completion']) expect(all).toContain(verb);
  });

  it('loads no verb or role module with the program itself', () => {
    const loaded = [...importClosure('src/cli/grove.ts')];
    expect(loaded).toContain('src/cli/program.ts');
    expect(loaded.filter((f) => /^src\/cli\/(verbs|roles|client)\//.test(f) || f.startsWith('src/core/objects/'))).toEqual([]);
  });
});
