import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLY_OBJECTS_PATH } from '../../src/cli/client/apply-objects.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { applyAnswer, fakeGroveEachTest } from './cli-run-grove.js';

const fake = fakeGroveEachTest();
const setUp = () => fake({ [`POST ${APPLY_OBJECTS_PATH}`]: applyAnswer('created') });

describe('grove create secret|configmap', () => {
  it('sends a Secret object with base64 values that the server schema accepts', async () => {
    const { api, grove } = await setUp();
    const key = join(grove.dir, 'key.pem');
    await writeFile(key, 'PEM\n');
    const r = await grove.run(['create', 'secret', 'generic', 'db', '--from-literal=password=s3cret', `--from-file=${key}`, '-n', 'shop']);
    expect(r).toEqual({ code: 0, out: 'secret/db created\n', err: '' });
    const [secret] = (api.seen[0]!.body as { objects: Record<string, unknown>[] }).objects;
    expect(secret).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: { password: Buffer.from('s3cret').toString('base64'), 'key.pem': Buffer.from('PEM\n').toString('base64') } });
    expect(checkObject('Secret', secret).ok).toBe(true);
  });

  it('a ConfigMap keeps text; --dry-run=client -o yaml prints the object and sends nothing', async () => {
    const { api, grove } = await setUp();
    const r = await grove.run(['create', 'configmap', 'settings', '--from-literal=mode=fast', '--immutable', '--dry-run=client', '-o', 'yaml']);
    expect(r.out).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: fast\nimmutable: true\n');
    expect(api.seen).toEqual([]);
  });

  it('refuses a value that is not text (the server stores text only), naming the file, never the value', async () => {
    const { grove } = await setUp();
    const bin = join(grove.dir, 'blob');
    await writeFile(bin, Buffer.from([0xff, 0xfe]));
    const r = await grove.run(['create', 'configmap', 'c', `--from-file=${bin}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/blob is not UTF-8 text/);
  });
});
