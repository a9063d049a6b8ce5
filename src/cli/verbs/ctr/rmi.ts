import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import { argList, NO_OPTIONS, type Act } from '../../verb.js';
import { imagesInUse, openImages } from './open.js';

export function registerRmi(ctr: Command, act: Act): void {
  act(ctr.command('rmi').description('remove images (refused while a container uses them)').argument('<image...>', 'image references or IDs'), NO_OPTIONS, async (ctx, [references]) => {
    const images = await openImages(ctx);
    const used = await imagesInUse(ctx);
    for (const reference of argList(references)) {
      await images.remove(reference, (digest) => used.has(digest));
      writeLine(ctx.io.stdout, `Untagged: ${reference}`);
    }
  });
}
