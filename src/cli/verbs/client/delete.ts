import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { collectionFor, openClient, singular } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import { collect, type Act } from '../../verb.js';

export function registerDelete(program: Command, act: Act): void {
  program
    .command('delete')
    .description('delete resources by kind and name (app, configmap, secret) or from manifest files')
    .argument('[kind]', 'app | configmap | secret')
    .argument('[names...]', 'resource names')
    .option('-f, --filename <path>', 'delete what these files define (repeatable)', collect, [])
    .action(
      act(async (ctx, [kind, names], options) => {
        const targets: { collection: string; name: string }[] = [];
        for (const file of options.filename as string[]) {
          for (const resource of await (await import('../../client/read-manifests.js')).loadResources([file])) {
            const { resourceKey } = await import('../../../core/manifests/index.js');
            const [collection, name] = resourceKey(resource).split('/') as [string, string];
            targets.push({ collection, name });
          }
        }
        if (kind !== undefined) {
          const collection = collectionFor(kind as string);
          if (!collection || collection === 'nodes' || collection === 'pods') {
            throw new GroveError(ErrorCode.InvalidArgument, `delete: "${String(kind)}" is not a kind that can be deleted (app, configmap, secret)`);
          }
          const list = names as string[];
          if (list.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `delete ${String(kind)}: name the resources to delete`);
          for (const name of list) targets.push({ collection, name });
        }
        if (targets.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'delete needs KIND NAME... or -f FILE');
        const client = await openClient(ctx, options);
        for (const t of targets) {
          await client.delete(`/v1/${t.collection}/${encodeURIComponent(t.name)}`);
          writeLine(ctx.io.stdout, `${singular(t.collection)}/${t.name} deleted`);
        }
      }),
    );
}
