import type { Command } from 'commander';
import { formatBytes } from '../../../core/quantity.js';
import { ContainerStore } from '../../../../agent/src/runtime/container-store.js';
import { writeLine } from '../../io.js';
import { imageStoreFor } from '../../local-runtime.js';
import type { Act } from '../../verb.js';

export function registerPrune(ctr: Command, act: Act): void {
  ctr
    .command('prune')
    .description('remove images no container uses, and blobs no image references')
    .action(
      act(async (ctx) => {
        const images = await imageStoreFor(ctx.dataDir, ctx.logger);
        const used = new Set((await new ContainerStore(ctx.dataDir).list()).map((c) => c.imageDigest));
        const result = await images.prune(used);
        writeLine(ctx.io.stdout, `Total reclaimed space: ${formatBytes(result.freedBytes)}`);
      }),
    );
}
