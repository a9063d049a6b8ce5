import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../agent/src/images/types.js';
import { imagesTable } from '../../src/cli/verbs/ctr/images.js';

const NOW = new Date('2026-03-10T12:00:00Z');

function record(name: string, id: string, pulledAt: string): ImageRecord {
  return {
    names: [name],
    digest: `sha256:${id.repeat(64)}`,
    configDigest: `sha256:${id.repeat(64)}`,
    platform: { os: 'linux', architecture: 'arm64' },
    config: { env: [], entrypoint: [], cmd: [], workingDir: '', user: '', labels: {} },
    layers: [],
    diffIds: [],
    size: 1_500_000,
    createdAt: pulledAt,
  };
}

describe('grove ctr images', () => {
  it('CREATED is when the image was built, N/A when it does not say; newest build first', () => {
    const table = imagesTable(
      [
        { record: record('docker.io/library/alpine:3.19', 'a', '2026-03-10T11:59:50Z'), created: '2024-01-26T23:44:00Z' },
        { record: record('docker.io/library/busybox:latest', 'b', '2026-03-10T11:59:55Z'), created: undefined },
        { record: record('registry.local:5000/team/app:1.2', 'c', '2026-03-01T00:00:00Z'), created: '2026-03-10T09:00:00Z' },
      ],
      NOW,
    );
    expect(table.split('\n')).toEqual([
      'REPOSITORY                     TAG      IMAGE ID       CREATED       SIZE',
      'registry.local:5000/team/app   1.2      cccccccccccc   3 hours ago   1.4MiB',
      'alpine                         3.19     aaaaaaaaaaaa   2 years ago   1.4MiB',
      'busybox                        latest   bbbbbbbbbbbb   N/A           1.4MiB',
    ]);
  });
});
