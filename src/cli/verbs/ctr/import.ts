import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import { argText, NO_OPTIONS, type Act } from '../../verb.js';
import { openImages } from './open.js';

export function registerImport(ctr: Command, act: Act): void {
  act(
    ctr.command('import').description('import images from a `docker save` archive or an OCI image layout tarball (offline)').argument('<file>', 'archive path'),
    NO_OPTIONS,
    async (ctx, [file]) => {
      const images = await openImages(ctx);
      for (const image of await images.importArchive(argText(file, 'file'))) {
        writeLine(ctx.io.stdout, `Imported ${image.names.join(', ') || '<untagged>'} ${image.digest}`);
      }
    },
  );
}
