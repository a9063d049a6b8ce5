import type { Command } from 'commander';
import { displayImageRef, parseImageRef } from '../../../core/image-ref.js';
import { formatBytes } from '../../../core/quantity.js';
import { ago, shortId, table } from '../../format.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { openImages } from './open.js';

export function registerImages(ctr: Command, act: Act): void {
  ctr
    .command('images')
    .description('list stored images')
    .option('-q, --quiet', 'only image IDs')
    .action(
      act(async (ctx, _args, options) => {
        const images = await (await openImages(ctx)).list();
        if (options.quiet) {
          for (const image of images) writeLine(ctx.io.stdout, shortId(image.configDigest));
          return;
        }
        const now = new Date();
        const rows = images.flatMap((image) => {
          const names = image.names.length ? image.names : ['<none>'];
          return names.map((name) => {
            const [repository, tag] = splitName(name);
            return [repository, tag, shortId(image.configDigest), ago(image.createdAt, now), formatBytes(image.size)];
          });
        });
        writeLine(ctx.io.stdout, table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
      }),
    );
}

function splitName(name: string): [string, string] {
  if (name === '<none>') return ['<none>', '<none>'];
  const ref = parseImageRef(name);
  const repository = displayImageRef({ registry: ref.registry, repository: ref.repository });
  return [repository, ref.tag ?? '<none>'];
}
