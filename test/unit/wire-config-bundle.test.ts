import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { decodeConfigMessage, openConfigBundle, sealConfigBundle, type ConfigObject } from '../../src/core/wire-config.js';
import { encodeMessage } from '../../src/core/wire-codec.js';
import { encrypt, keyId } from '../../src/core/seal.js';

const key = randomBytes(32);
const bundle = (objects: ConfigObject[]) => ({ cluster: 'c', node: 'pi-1', revision: 3, issuedAt: '2025-01-02T03:04:05.000Z', objects });
const open = (objects: ConfigObject[]) => openConfigBundle(decodeConfigMessage(sealConfigBundle(bundle(objects), key)), key);

/** A message whose bundle is `raw` as given (what a broken or hostile server could send). */
function openRaw(raw: unknown): unknown {
  const b = bundle([]);
  const { iv, tag, ciphertext } = encrypt(key, encodeMessage(raw as object), `grove-config/${b.cluster}/${b.node}/${b.revision}`);
  const message = encodeMessage({ schema: 1, cluster: b.cluster, node: b.node, revision: b.revision, issuedAt: b.issuedAt, keyId: keyId(key), iv, tag, payload: ciphertext });
  return openConfigBundle(decodeConfigMessage(message), key);
}

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isGroveError(err, ErrorCode.WireInvalid)) return err.message;
    throw err;
  }
  throw new Error('expected a WireInvalid error');
}

describe('config bundles with namespaces', () => {
  it('carry each object\'s namespace, absent meaning default, as older servers sent them', () => {
    const objects: ConfigObject[] = [
      { kind: 'ConfigMap', name: 'settings', version: '1', data: { a: 'x' } },
      { kind: 'ConfigMap', namespace: 'team-a', name: 'settings', version: '2', data: { a: 'y' } },
      { kind: 'Secret', namespace: 'team-a', name: 'db', version: '3', data: { pw: 'hunter2' } },
    ];
    expect(open(objects).objects).toEqual(objects);
  });

  it('refuse one object twice in one namespace, also when the default is written out', () => {
    const cm: ConfigObject = { kind: 'ConfigMap', name: 'settings', version: '1', data: {} };
    expect(rejection(() => open([cm, { ...cm, namespace: 'default' }]))).toBe('config bundle: objects: ConfigMap/default/settings appears twice');
  });

  it('drop unknown fields, check every field, and never show a value', () => {
    expect(openRaw({ objects: [{ kind: 'Secret', name: 'db', version: '1', data: { pw: 'x' }, extra: 1 }], more: true })).toMatchObject({ objects: [{ kind: 'Secret', name: 'db', version: '1', data: { pw: 'x' } }] });
    expect(rejection(() => openRaw({ objects: [{ kind: 'Pod', name: 'db', version: '1', data: {} }] }))).toBe('config bundle: objects[0].kind: expected ConfigMap or Secret');
    expect(rejection(() => openRaw({ objects: [{ kind: 'Secret', namespace: 'Team', name: 'db', version: '1', data: {} }] }))).toMatch(/^config bundle: objects\[0\]\.namespace: must be a DNS label/);
    const bad = rejection(() => openRaw({ objects: [{ kind: 'Secret', name: 'db', version: '1', data: { pw: 7, ok: 'hunter2' } }] }));
    expect(bad).toBe('config bundle: objects[0].data.pw: expected a string, got number');
    expect(rejection(() => openRaw({ objects: 'x' }))).toBe('config bundle: objects: expected an array, got string');
    expect(rejection(() => openRaw({ objects: Array(513).fill({ kind: 'Secret', name: 'db', version: '1', data: {} }) }))).toBe('config bundle: objects: more than 512 items');
  });
});
