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

  it('the agent: registry access and the puller load with the first pull, the archive importer with the first import', () => {
    const loaded = importClosure('src/cli/roles/agent-run.ts');
    expect(loaded).toContain('agent/src/images/image-store.ts');
    for (const lazy of ['registry-client', 'puller', 'blob-download', 'archive-import']) expect(loaded, lazy).not.toContain(`agent/src/images/${lazy}.ts`);
  });

  it('the agent: the cluster DNS server loads only when --cluster-dns is on, and its message codec (dns-packet) with the first query', () => {
    for (const role of ['src/cli/roles/agent-run.ts', 'src/cli/roles/server-run.ts']) {
      expect(importClosure(role), role).toContain('src/cli/roles/node-agent.ts');
      expect(importClosure(role), role).not.toContain('agent/src/agent/dns/cluster-dns.ts');
      expect(packageImports(role), role).not.toContain('dns-packet');
    }
    const dns = importClosure('agent/src/agent/dns/cluster-dns.ts');
    expect(dns).toContain('agent/src/agent/dns/dns-server.ts');
    expect(dns).not.toContain('agent/src/agent/dns/dns-message.ts');
    expect(packageImports('agent/src/agent/dns/cluster-dns.ts')).not.toContain('dns-packet');
  });

  it('the server: the YAML parser loads with the first YAML body (server-side apply)', () => {
    const packages = packageImports('src/cli/roles/server-run.ts');
    expect(packages).toContain('aedes');
    expect(packages).not.toContain('yaml');
  });

  it('the server: no TypeBox nor schema (the kind registry reads the generated table); OpenAPI and the write paths load with their first request', () => {
    expect(packageImports('src/cli/roles/server-run.ts')).not.toContain('@sinclair/typebox');
    const loaded = importClosure('src/cli/roles/server-run.ts');
    expect(loaded).toContain('src/core/objects/kinds.ts');
    expect(loaded).toContain('src/server/k8s-api/routes.ts');
    for (const lazy of ['src/server/migrate/migrate-legacy.ts', 'src/core/objects/kind-table.ts', 'src/core/objects/shared-schemas.ts', 'src/core/objects/schema-cursor.ts', 'src/core/objects/taints.ts']) expect(loaded, lazy).not.toContain(lazy);
    for (const lazy of ['openapi', 'openapi-protobuf', 'create-update', 'patch', 'server-side-apply', 'strategic-merge', 'json-patch', 'delete-options', 'subresources']) {
      expect(loaded, lazy).not.toContain(`src/server/k8s-api/${lazy}.ts`);
    }
  });
});
