/** The entry checks the server and the agent run over their stores at start and in fsck. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { agentEntryCheck } from '../../agent/src/agent/store-checks.js';
import { refuseClusterNameLoss } from '../../src/cli/roles/server-setup.js';
import { seal } from '../../src/core/seal.js';
import { makeNodeTarget } from '../../src/core/wire.js';
import { serverEntryCheck } from '../../src/server/store-checks.js';

const key = randomBytes(32);
const sealedAs = (storeKey: string, value: unknown, k: Buffer = key) => seal(k, Buffer.from(JSON.stringify(value)), `grove-store/${storeKey}`);
const secret = (name: string) => ({ kind: 'Secret', meta: { name, labels: {}, annotations: {}, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' }, data: { password: 'p' } });
const configMap = (name: string, data: unknown = { a: '1' }) => ({ kind: 'ConfigMap', meta: { name, labels: {}, annotations: {} }, data });
const entry = (key: string, value: unknown) => ({ key, value, revision: 1 });
/** A Grove 0.1 App record (what a 0.1 store holds until the migration at start). */
const app = (name: string) => ({
  kind: 'App',
  meta: { name, labels: {}, annotations: {} },
  spec: { kind: 'Deployment', replicas: 1, template: { labels: { app: name }, annotations: {}, nodeSelector: {}, restartPolicy: 'Always', hostNetwork: false, containers: [{ name: 'main', image: 'docker.io/library/nginx:1.27', env: [], resources: {} }] } },
});

describe('serverEntryCheck', () => {
  const check = serverEntryCheck(key);

  it('passes what the server writes', () => {
    expect(check(entry('secrets/db', sealedAs('secrets/db', secret('db'))))).toBeUndefined();
    expect(check(entry('secrets/db', secret('db')))).toBeUndefined();
    expect(check(entry('configmaps/web', configMap('web')))).toBeUndefined();
    expect(check(entry('apps/web', app('web')))).toBeUndefined();
    expect(check(entry('targets/pi-1', { revision: 1, checksum: 'x', issuedAt: 'x' }))).toBeUndefined();
    expect(check(entry('cluster', { name: 'default' }))).toBeUndefined();
    // Kubernetes objects (the object store's), plain and sealed.
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'default' }, data: { a: '1' } };
    expect(check(entry('configmaps/default/web', cm))).toBeUndefined();
    const sec = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { p: 'cA==' } };
    expect(check(entry('secrets/default/db', sealedAs('secrets/default/db', sec)))).toBeUndefined();
    expect(check(entry('nodes/pi-1', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1' } }))).toBeUndefined();
  });

  it('finds a seal that does not open, but leaves one made with another key to the key check', () => {
    const sealed = sealedAs('secrets/db', secret('db'));
    const altered = { ...sealed, ciphertext: (sealed.ciphertext[0] === 'A' ? 'B' : 'A') + sealed.ciphertext.slice(1) };
    expect(check(entry('secrets/db', altered))).toMatch(/^sealed with the secrets key in use but does not open/);
    // Moved under another name: the authenticated data no longer matches.
    expect(check(entry('secrets/other', sealed))).toMatch(/does not open/);
    expect(check(entry('secrets/db', sealedAs('secrets/db', secret('db'), randomBytes(32))))).toBeUndefined();
    expect(serverEntryCheck(undefined)(entry('secrets/db', altered))).toBeUndefined();
  });

  it('finds 0.1 records the migration could not read or turn into valid objects', () => {
    expect(check(entry('configmaps/web', configMap('web', { a: 5 })))).toBe('not a Grove 0.1 ConfigMap record');
    // Read, but its object would break Kubernetes' rules (a data key with a space).
    expect(check(entry('configmaps/web', configMap('web', { 'a b': '1' })))).toMatch(/^data\["a b"\]|^data\.a b: /);
    expect(check(entry('configmaps/web', configMap('other')))).toBe('meta.name is "other", not "web"');
    expect(check(entry('configmaps/web', { ...secret('web') }))).toBe('kind is "Secret", not ConfigMap');
    expect(check(entry('secrets/db', sealedAs('secrets/db', configMap('db'))))).toBe('kind is "ConfigMap", not Secret');
    expect(check(entry('apps/web', 'text'))).toBe('not an object with meta');
    expect(check(entry('apps/web', { ...app('web'), spec: {} }))).toBe('not a Grove 0.1 App (spec.template.containers is missing or malformed)');
    expect(check(entry('nodes/pi-1', { meta: { name: 'pi-2' } }))).toMatch(/not "pi-1"/);
  });
});

describe('agentEntryCheck', () => {
  it('passes a valid target, revision and job record, and finds broken ones', () => {
    const target = makeNodeTarget({ cluster: 'c', node: 'n', revision: 3, pods: [], issuedAt: '2025-05-01T00:00:00.000Z' });
    expect(agentEntryCheck(entry('target', target))).toBeUndefined();
    expect(agentEntryCheck(entry('target', { ...target, checksum: '0'.repeat(64) }))).toMatch(/^not a valid target: /);
    expect(agentEntryCheck(entry('applied-revision', 3))).toBeUndefined();
    expect(agentEntryCheck(entry('applied-revision', '3'))).toBe('not a revision');
    expect(agentEntryCheck(entry('jobs/p', { pod: 'p', templateHash: 'h' }))).toBeUndefined();
    expect(agentEntryCheck(entry('jobs/p', { pod: 1 }))).toBe('not a job record');
    expect(agentEntryCheck(entry('other', 'anything'))).toBeUndefined();
  });
});

describe('refuseClusterNameLoss', () => {
  it('refuses to let a corrupt cluster name be replaced by the default', () => {
    expect(() => refuseClusterNameLoss(['configmaps/x', 'cluster'], undefined)).toThrow(/cluster name record is corrupt: start once with --cluster NAME/);
    expect(() => refuseClusterNameLoss(['cluster'], 'edge')).not.toThrow();
    expect(() => refuseClusterNameLoss(['configmaps/x'], undefined)).not.toThrow();
  });
});
