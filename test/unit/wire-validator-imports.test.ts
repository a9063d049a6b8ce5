/**
 * Each generated validator costs a process memory from its import on (test/bench/validator-rss.ts),
 * so a process must load only the validators of the messages it receives: the decoders are split
 * by receiver (wire-from-agent, wire-from-server). These tests follow the static imports of the
 * sources (`import type` excluded: it emits nothing) and list the validators each one reaches.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/grove-cli.js';

const GENERATED = 'src/core/objects/generated/';

// `import {…} from './x.js'` and `export {…} from './x.js'`, not `import type`; side-effect imports too.
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceOf(file: string): string {
  const ts = file.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : file;
}

/** Every repository file reached from `entry` by static relative imports, as repo-relative paths. */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [resolve(REPO_ROOT, entry)];
  while (todo.length) {
    const file = sourceOf(todo.pop()!);
    const rel = relative(REPO_ROOT, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    // Generated modules are build output (gitignored until `npm run generate`): a leaf here.
    if (rel.startsWith(GENERATED)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) todo.push(join(dirname(file), m[1]!));
  }
  return seen;
}

function validatorsReached(entry: string): string[] {
  return [...importClosure(entry)]
    .filter((f) => f.startsWith(GENERATED))
    .map((f) => f.slice(GENERATED.length).replace(/\.ts$/, ''))
    .sort();
}

describe('generated validators a module loads', () => {
  it('the server-side decoders load only the validators of what agents send', () => {
    expect(validatorsReached('src/core/wire-from-agent.ts')).toEqual(['wire-node-status', 'wire-presence', 'wire-rpc-response']);
  });

  it('the agent-side decoders load only the validator of rpc requests', () => {
    expect(validatorsReached('src/core/wire-from-server.ts')).toEqual(['wire-rpc-request']);
  });

  it("the agent's sync client loads none of the validators of what it sends", () => {
    const loaded = validatorsReached('agent/src/agent/sync-client.ts');
    expect(loaded).toContain('wire-rpc-request');
    for (const sent of ['wire-node-status', 'wire-presence', 'wire-rpc-response', 'objects']) expect(loaded).not.toContain(sent);
  });

  it('follows re-exports and skips type-only imports', () => {
    // The walker itself: a module known to import values (./quote.js) and types (ajv) only.
    const closure = importClosure('src/core/wire-check.ts');
    expect(closure).toContain('src/core/quote.ts');
    expect([...closure].some((f) => f.includes('ajv'))).toBe(false);
  });
});
