import type { Command } from 'commander';
import type { ImageRecord } from '../../../../agent/src/images/types.js';
import { displayImageRef, parseImageRef } from '../../../core/image-ref.js';
import { formatBytes } from '../../../core/quantity.js';
import { ago, shortId, table } from '../../format.js';
import { writeLine } from '../../io.js';
import { onOff } from '../../config/option.js';
import type { Act } from '../../verb.js';
import { openImages } from './open.js';

export function registerImages(ctr: Command, act: Act): void {
  act(
    ctr.command('images').description('list stored images'),
    { quiet: onOff({ short: '-q', description: 'only image IDs' }) },
    async (ctx, _args, options) => {
        const store = await openImages(ctx);
        const images = await store.list();
        if (options.quiet) {
          for (const image of images) writeLine(ctx.io.stdout, shortId(image.configDigest));
          return;
        }
        const listed = await Promise.all(images.map(async (record) => ({ record, created: await store.imageCreated(record) })));
        writeLine(ctx.io.stdout, imagesTable(listed, new Date()));
    },
  );
}

export interface ListedImage {
  record: ImageRecord;
  /** When the image was built (its config's `created`); undefined when it does not say. */
  created: string | undefined;
}

/**
 * docker images' table: CREATED is when the image was built, not when it arrived here ("N/A"
 * when its config does not say), newest build first.
 */
export function imagesTable(images: ListedImage[], now: Date): string {
  const built = (i: ListedImage): number => (i.created !== undefined ? Date.parse(i.created) : -Infinity);
  const rows = [...images]
    .sort((a, b) => built(b) - built(a) || 0)
    .flatMap(({ record, created }) => {
      const names = record.names.length ? record.names : ['<none>'];
      return names.map((name) => {
        const [repository, tag] = splitName(name);
        return [repository, tag, shortId(record.configDigest), created !== undefined ? ago(created, now) : 'N/A', formatBytes(record.size)];
      });
    });
  return table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows);
}

function splitName(name: string): [string, string] {
  if (name === '<none>') return ['<none>', '<none>'];
  const ref = parseImageRef(name);
  const repository = displayImageRef({ registry: ref.registry, repository: ref.repository });
  return [repository, ref.tag ?? '<none>'];
}
