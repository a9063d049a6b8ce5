import type { Command } from 'commander';
import { writeLine } from '../../io.js';
import { pullProgressReporter } from '../../progress.js';
import { argText, NO_OPTIONS, type Act } from '../../verb.js';
import { openImages } from './open.js';

export function registerPull(ctr: Command, act: Act): void {
  act(
    ctr
      .command('pull')
      .description('pull an image from a registry (mirrors and credentials from <data-dir>/registries.json)')
      .argument('<image>', 'image reference, e.g. busybox or registry.local:5000/app:1.2'),
    NO_OPTIONS,
    async (ctx, [arg]) => {
      const reference = argText(arg, 'image');
      const images = await openImages(ctx);
      const progress = pullProgressReporter(ctx.io);
      try {
        const image = await images.pull(reference, { onProgress: progress.onProgress });
        progress.finish();
        writeLine(ctx.io.stdout, `Pulled ${image.names[0] ?? reference} ${image.digest}`);
      } catch (err) {
        progress.finish();
        throw err;
      }
    },
  );
}
