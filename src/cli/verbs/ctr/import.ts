import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { openImages } from './open.js';

export function registerImport(ctr: Command, act: Act): void {
  ctr
    .command('import')
    .description('import images from a `docker save` archive or an OCI image layout tarball (offline)')
    .argument('<file>', 'archive path')
    .action(
      act(async (ctx, [file]) => {
        const images = await openImages(ctx);
        for (const image of await images.importArchive(file as string)) {
          writeLine(ctx.io.stdout, `Imported ${image.names.join(', ') || '<untagged>'} ${image.digest}`);
        }
      }),
    );
}
