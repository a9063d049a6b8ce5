import type { Command } from 'commander';
import { ContainerStore } from '../../../../agent/src/runtime/container-store.js';
import { writeLine } from '../../io.js';
import { imageStoreFor } from '../../local-runtime.js';
import type { Act } from '../../verb.js';

export function registerRmi(ctr: Command, act: Act): void {
  ctr
    .command('rmi')
    .description('remove images (refused while a container uses them)')
    .argument('<image...>', 'image references or IDs')
    .action(
      act(async (ctx, [references]) => {
        const images = await imageStoreFor(ctx.dataDir, ctx.logger);
        const used = new Set((await new ContainerStore(ctx.dataDir).list()).map((c) => c.imageDigest));
        for (const reference of references as string[]) {
          await images.remove(reference, (digest) => used.has(digest));
          writeLine(ctx.io.stdout, `Untagged: ${reference}`);
        }
      }),
    );
}
