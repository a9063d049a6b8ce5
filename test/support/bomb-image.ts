/**
 * Images for the unpack-bounds tests: a record whose layers sit in a content store, so a
 * Snapshotter can unpack them without a registry. The diff_ids are placeholders unless given:
 * the bounds under test stop an unpack before its diff_id is checked.
 */
import { ContentStore } from '../../agent/src/images/content-store.js';
import type { ImageRecord } from '../../agent/src/images/types.js';

export async function storedImage(store: ContentStore, name: string, layers: Buffer[], diffIds?: string[]): Promise<ImageRecord> {
  const digests: string[] = [];
  for (const layer of layers) digests.push(await store.put(layer));
  return {
    names: [name],
    digest: `sha256:${'1'.repeat(64)}`,
    configDigest: `sha256:${'2'.repeat(64)}`,
    platform: { os: 'linux', architecture: 'amd64' },
    config: { env: [], entrypoint: [], cmd: [], workingDir: '', user: '', labels: {} },
    layers: digests,
    diffIds: diffIds ?? digests.map((_, i) => `sha256:${String(i).repeat(64)}`),
    size: layers.reduce((n, l) => n + l.length, 0),
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}
