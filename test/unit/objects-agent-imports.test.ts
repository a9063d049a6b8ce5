import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importClosure } from '../support/static-imports.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('what the agent loads', () => {
  it('takes only the generated validators of what it decodes, no object validators, no schemas, no compiler', () => {
    const loaded = importClosure('src/cli/roles/agent-run.ts');
    expect(loaded.has('agent/src/agent/sync-client.ts')).toBe(true);
    const generated = [...loaded].filter((f) => f.startsWith('src/core/objects/generated/')).sort();
    // The node target (schema 2), config bundles and rpc requests.
    expect(generated).toEqual(['src/core/objects/generated/wire-config.ts', 'src/core/objects/generated/wire-network.ts', 'src/core/objects/generated/wire-node-target.ts', 'src/core/objects/generated/wire-rpc-request.ts']);
    // TypeBox schemas and the registry stay out of the agent: only the generated code runs there.
    const schemaModules = [...loaded].filter((f) => /^src\/core\/objects\/(kinds|schemas|validate|pod|workloads|batch|kit|meta|generate)\.ts$/.test(f));
    expect(schemaModules).toEqual([]);
    // Type-only imports are erased; a value import would load the library.
    for (const f of loaded) expect(readFileSync(join(ROOT, f), 'utf8'), f).not.toMatch(/^import (?!type\b)[^;]*from '(ajv|@sinclair\/typebox)'/m);
  });

  it('stays so when it decodes schema-2 targets: the target module and the pod rules, nothing more', () => {
    const loaded = [...importClosure('src/core/wire-target.ts')];
    expect(loaded.filter((f) => f.includes('/generated/'))).toEqual(['src/core/objects/generated/wire-node-target.ts']);
    for (const f of loaded) expect(readFileSync(join(ROOT, f), 'utf8'), f).not.toMatch(/^import (?!type\b)[^;]*from '(ajv|@sinclair\/typebox)'/m);
  });
});
