/**
 * Each generated validator costs a process memory from its import on (test/bench/validator-rss.ts),
 * so a process must load only the validators of the messages it receives: the decoders are split
 * by receiver (wire-from-agent, wire-from-server). These tests follow the static imports of the
 * sources (`import type` excluded: it emits nothing) and list the validators each one reaches.
 */
import { describe, expect, it } from 'vitest';
import { GENERATED, importClosure } from '../support/static-imports.js';

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
