import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { createWireDecoder, createWireEncoder } from '../../src/core/wire.js';
import { BACKUP_FORMAT_VERSION, MAX_BACKUP_BYTES, decodeBackup, encodeBackup } from '../../src/store/backup.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const createdAt = new Date('2026-11-22T08:00:00.000Z');

async function sampleStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.commit([{ type: 'put', key: 'cluster', value: { name: 'farm' } }]);
  await store.commit([
    { type: 'put', key: 'apps/web', value: { kind: 'App', meta: { name: 'web' }, spec: { replicas: 2 } } },
    { type: 'put', key: 'secrets/db', value: { data: { password: 'p' }, bytes: new Uint8Array([1, 2, 3]) } },
  ]);
  return store;
}

/** Re-encodes a backup's outer map with `change` applied (for damaged-file cases). */
function tamper(file: Buffer, change: (outer: Record<string, unknown>) => void): Buffer {
  const outer = createWireDecoder().decode(file) as Record<string, unknown>;
  change(outer);
  return createWireEncoder().encode(outer);
}

function rejectsWith(file: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    decodeBackup(file);
  } catch (err) {
    caught = err;
  }
  expect(isGroveError(caught), String(caught)).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
}

describe('backup file format', () => {
  it('round-trips a snapshot with its header, values keeping their types', async () => {
    const store = await sampleStore();
    const snapshot = await store.snapshot();
    const { header, entries } = decodeBackup(encodeBackup(snapshot, { cluster: 'farm', createdAt }));
    expect(header).toMatchObject({ format: 'grove-backup', formatVersion: BACKUP_FORMAT_VERSION, cluster: 'farm', revision: 2, entryCount: 3, createdAt: createdAt.toISOString() });
    expect(entries).toEqual(snapshot.entries);
    expect((entries.find((e) => e.key === 'secrets/db')!.value as { bytes: unknown }).bytes).toBeInstanceOf(Uint8Array);
  });

  it('refuses damaged, foreign, newer-format and oversized files', async () => {
    const file = encodeBackup(await (await sampleStore()).snapshot(), { cluster: 'farm', createdAt });
    rejectsWith(file.subarray(0, file.length - 5), /not a valid Grove backup/);
    rejectsWith(Buffer.from('hello'), /not a valid Grove backup/);
    rejectsWith(tamper(file, (o) => (o.format = 'tarball')), /format is "tarball"/);
    rejectsWith(tamper(file, (o) => (o.formatVersion = 2)), /format version 2 is not supported/);
    rejectsWith(tamper(file, (o) => (o.cluster = 'Bad Name')), /cluster is missing or malformed/);
    rejectsWith(
      tamper(file, (o) => {
        const body = Buffer.from(o.body as Uint8Array);
        body[body.length - 1]! ^= 1;
        o.body = body;
      }),
      /checksum mismatch/,
    );
    rejectsWith(tamper(file, (o) => (o.entryCount = 9)), /expected 9 entries/);
    const tooBig = Buffer.alloc(MAX_BACKUP_BYTES + 1);
    expect(() => decodeBackup(tooBig)).toThrow(expect.objectContaining({ code: ErrorCode.SizeLimit }));
  });

  it('refuses entries with bad keys, revisions beyond the snapshot or duplicates', () => {
    const encode = (entries: { key: string; value: unknown; revision: number }[]) => encodeBackup({ revision: 3, entries }, { cluster: 'farm', createdAt });
    rejectsWith(encode([{ key: '\x00meta', value: 1, revision: 1 }]), /invalid store key/);
    rejectsWith(encode([{ key: 'apps/a', value: 1, revision: 4 }]), /outside 1\.\.3/);
    rejectsWith(encode([{ key: 'apps/a', value: 1, revision: 1 }, { key: 'apps/a', value: 2, revision: 2 }]), /duplicate keys/);
  });
});
