/**
 * What `grove agent` and `grove server` load at start stays in their memory for months: code
 * that an idle daemon does not run is imported where it is first needed. These tests follow the
 * static imports from each role's entry and list what must not be among them.
 */
import { describe, expect, it } from 'vitest';
import { importClosure, packageImports } from '../support/static-imports.js';

describe('what a daemon loads at start', () => {
  it('the agent: exec and port-forward sessions and the log and volume requests load with their first request', () => {
    const loaded = importClosure('src/cli/roles/agent-run.ts');
    expect(loaded).toContain('agent/src/agent/sync-client.ts');
    for (const lazy of ['stream-sessions', 'stream-session', 'exec-session', 'port-forward', 'rpc-logs', 'rpc-volumes']) {
      expect(loaded, lazy).not.toContain(`agent/src/agent/${lazy}.ts`);
    }
  });

  it('the server: the YAML parser loads with the first YAML body (server-side apply)', () => {
    const packages = packageImports('src/cli/roles/server-run.ts');
    expect(packages).toContain('aedes');
    expect(packages).not.toContain('yaml');
  });
});
