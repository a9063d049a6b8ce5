import { describe, expect, it } from 'vitest';
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';
import { ErrorCode } from '../../src/core/errors.js';
import { applyResources } from '../../src/server/resources.js';
import { validateResources } from '../../src/server/validate.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const validator = createManifestValidator();
const parse = (text: string) => parseManifests(text, { file: 'secret.yaml' }, { validator });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Kubernetes Secret manifests', () => {
  it('accepts the supported types and immutable, decoding data and merging stringData', () => {
    const [tls] = parse(`apiVersion: v1\nkind: Secret\nmetadata: { name: tls }\ntype: kubernetes.io/tls\nimmutable: true\ndata:\n  tls.crt: ${b64('CERT')}\n  tls.key: ${b64('KEY')}\n`);
    expect(tls).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', immutable: true, data: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } });
    const [basic] = parse(`apiVersion: v1\nkind: Secret\nmetadata: { name: b }\ntype: kubernetes.io/basic-auth\nstringData: { username: admin }\n`);
    expect(basic).toMatchObject({ type: 'kubernetes.io/basic-auth', data: { username: 'admin' } });
    // Opaque is the default and is not stored: such Secrets hash and compare as before.
    const [opaque] = parse(`apiVersion: v1\nkind: Secret\nmetadata: { name: o }\ntype: Opaque\nstringData: { a: b }\n`);
    expect(opaque).not.toHaveProperty('type');
    const [cm] = parse(`apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\nimmutable: true\ndata: { a: b }\n`);
    expect(cm).toMatchObject({ kind: 'ConfigMap', immutable: true });
  });
});

describe('API validation of Secrets and ConfigMaps', () => {
  const secret = (o: Record<string, unknown>) => ({ kind: 'Secret', meta: { name: 's' }, data: {}, ...o });

  it('checks the keys a type needs, the type itself and the 1 MiB limit, without quoting values', () => {
    expect(() => validateResources([secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'hunter2' } })])).toThrow(/needs the key tls.key/);
    expect(() => validateResources([secret({ type: 'kubernetes.io/basic-auth', data: {} })])).toThrow(/needs the key username or password/);
    expect(() => validateResources([secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'hunter2{' } })])).toThrow(/is not JSON/);
    expect(() => validateResources([secret({ type: 'bootstrap', data: {} })])).toThrow(/expected one of Opaque/);
    expect(() => validateResources([{ kind: 'ConfigMap', meta: { name: 'c' }, data: {}, type: 'Opaque' }])).toThrow(/only a Secret has a type/);
    const half = 'x'.repeat(600 * 1024);
    let message = '';
    try {
      validateResources([secret({ data: { a: half, b: half } })]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/at most 1048576 bytes \(1 MiB\)/);
    expect(message).not.toContain('xxxx');
    // Type problems name the key, never the value.
    expect(() => validateResources([secret({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'hunter2{' } })])).toThrow(/^(?!.*hunter2).*is not JSON/);
    expect(validateResources([secret({ type: 'kubernetes.io/tls', immutable: true, data: { 'tls.crt': 'c', 'tls.key': 'k' } })])[0]).toMatchObject({ type: 'kubernetes.io/tls', immutable: true });
  });

  it('an immutable object can be re-applied unchanged but never changed', async () => {
    const store = new MemoryStore();
    await store.open();
    await applyResources(store, [secret({ immutable: true, data: { a: '1' } })], new Date());
    expect((await applyResources(store, [secret({ immutable: true, data: { a: '1' } })], new Date())).results[0]!.action).toBe('unchanged');
    await expect(applyResources(store, [secret({ immutable: true, data: { a: '2' } })], new Date())).rejects.toMatchObject({ code: ErrorCode.Conflict, message: expect.stringContaining('is immutable') });
    await expect(applyResources(store, [secret({ data: { a: '1' } })], new Date())).rejects.toMatchObject({ code: ErrorCode.Conflict });
  });
});
