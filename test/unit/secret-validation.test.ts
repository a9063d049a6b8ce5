/**
 * Secrets and ConfigMaps as objects: the types Grove accepts, the keys each Secret type needs
 * and the 1 MiB limit, never quoting a value (ported from the 0.1 API validator's tests: the
 * object rules, src/core/objects/rules.ts, say them now). Immutability: the object store's
 * contract (test/contract/object-store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkObject } from '../../src/core/objects/validate.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (o: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, ...o });
function problems(value: Record<string, unknown>): string[] {
  const r = checkObject(value.kind as 'Secret' | 'ConfigMap', value, { showValues: true });
  return r.ok ? [] : r.problems.map((p) => `${p.path.join('.')}: ${p.reason}`);
}

describe('Secret manifests', () => {
  it('accepts the supported types and immutable, keeping data as base64 and folding stringData in', () => {
    const { objects, problems: found } = manifestsToObjects([
      {
        path: 'secret.yaml',
        text: `apiVersion: v1\nkind: Secret\nmetadata: { name: tls }\ntype: kubernetes.io/tls\nimmutable: true\ndata:\n  tls.crt: ${b64('CERT')}\n  tls.key: ${b64('KEY')}\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: b }\ntype: kubernetes.io/basic-auth\nstringData: { username: admin }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\nimmutable: true\ndata: { a: b }\n`,
      },
    ]);
    expect(found).toEqual([]);
    expect(objects[0]).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', immutable: true, data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } });
    expect(objects[1]).toMatchObject({ type: 'kubernetes.io/basic-auth', data: { username: b64('admin') } });
    expect(objects[2]).toMatchObject({ kind: 'ConfigMap', immutable: true });
  });
});

describe('Secret and ConfigMap rules', () => {
  it('checks the keys a type needs, the type itself and the 1 MiB limit, without quoting values', () => {
    expect(problems(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': b64('hunter2') } }))).toEqual(['data: a kubernetes.io/tls Secret needs the key tls.key']);
    expect(problems(secret({ type: 'kubernetes.io/basic-auth', data: {} }))).toEqual(['data: a kubernetes.io/basic-auth Secret needs the key username or password']);
    expect(problems(secret({ type: 'kubernetes.io/basic-auth', stringData: { password: 'p' } }))).toEqual([]);
    expect(problems(secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('hunter2{') } }))).toEqual(['data..dockerconfigjson: is not JSON']);
    expect(problems(secret({ type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }))).toEqual([]);
    expect(problems(secret({ type: 'bootstrap', data: {} })).join()).toContain('must be one of Opaque');
    expect(problems({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {}, type: 'Opaque' }).join()).toContain('type: unknown field');
    const half = 'x'.repeat(600 * 1024);
    const big = problems(secret({ stringData: { a: half, b: half } })).join();
    expect(big).toMatch(/at most 1048576 bytes \(1 MiB\)/);
    expect(big).not.toContain('xxxx');
    expect(problems(secret({ type: 'kubernetes.io/tls', immutable: true, data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } }))).toEqual([]);
  });
});
