import type { Command } from 'commander';
import { formatBytes } from '../../../core/quantity.js';
import { writeLine } from '../../io.js';
import { NO_OPTIONS, type Act } from '../../verb.js';
import { imagesInUse, openImages } from './open.js';

export function registerPrune(ctr: Command, act: Act): void {
  act(ctr.command('prune').description('remove images no container uses, and blobs no image references'), NO_OPTIONS, async (ctx) => {
    const images = await openImages(ctx);
    const used = await imagesInUse(ctx);
    const result = await images.prune(used);
    writeLine(ctx.io.stdout, `Total reclaimed space: ${formatBytes(result.freedBytes)}`);
  });
}
