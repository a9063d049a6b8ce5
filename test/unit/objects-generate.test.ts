import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleSource, wireForm } from '../../src/core/objects/generate.js';
import { VALIDATOR_MODULES } from '../../src/core/objects/schemas.js';

const GENERATED = join(import.meta.dirname, '../../src/core/objects/generated');
const source = (file: string) => moduleSource(VALIDATOR_MODULES.find((m) => m.file === file)!);

describe('the validator generator', () => {
  it('is deterministic, and the generated files are current', () => {
    for (const module of VALIDATOR_MODULES) {
      const once = moduleSource(module);
      expect(moduleSource(module)).toBe(once);
      expect(readFileSync(join(GENERATED, `${module.file}.ts`), 'utf8')).toBe(once);
    }
  });

  it('emits plain ESM that loads no schema compiler', () => {
    for (const module of VALIDATOR_MODULES) {
      const code = source(module.file);
      expect(code.startsWith('// @ts-nocheck\n')).toBe(true);
      expect(code).not.toMatch(/\brequire\(/);
      // Only ajv's small runtime helpers may be imported, never ajv itself (the compiler).
      for (const [, from] of code.matchAll(/\bfrom\s*"([^"]+)"/g)) expect(from).toMatch(/^ajv\/dist\/runtime\/[a-z0-9_]+\.js$/);
      expect(code).not.toMatch(/new Function|\beval\(/);
    }
  });

  it('gives each process only what it decodes: the target module holds no status or object validators', () => {
    const target = source('wire-node-target');
    expect(target).toMatch(/\bWireNodeTarget\b/);
    expect(target).not.toMatch(/WireNodeStatus|"Deployment"|"CronJob"/);
    expect(source('objects')).not.toMatch(/WireNodeTarget/);
  });

  it('makes wire schemas open: rejected-by-name fields of closed objects become unknown, and are dropped', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string' }, lifecycle: { not: {}, errorMessage: 'not supported yet' } },
      allOf: [{ type: 'object', properties: { livenessProbe: { not: {}, errorMessage: 'init containers cannot have probes' } } }],
    };
    expect(wireForm(schema)).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string' } },
      // A rule (not a list of fields Grove lacks) stays a rule on the wire.
      allOf: [{ type: 'object', properties: { livenessProbe: { not: {}, errorMessage: 'init containers cannot have probes' } } }],
    });
    expect(wireForm({ type: 'object', properties: {}, additionalProperties: { not: {}, errorMessage: 'x' } })).toEqual({ type: 'object', properties: {}, additionalProperties: false });
    // The object modules keep refusing them.
    expect(source('objects')).toContain('not supported yet');
  });
});
