import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { collectionFor, openClient, singular } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import { many } from '../../config/option.js';
import { list } from '../../config/units.js';
import { argList, argOptional, type Act } from '../../verb.js';

export function registerDelete(program: Command, act: Act): void {
  act(
    program
      .command('delete')
      .description('delete resources by kind and name (app, configmap, secret) or from manifest files')
      .argument('[kind]', 'app | configmap | secret')
      .argument('[names...]', 'resource names'),
    { filename: many({ unit: list('path'), short: '-f', description: 'delete what these files define (repeatable)' }) },
    async (ctx, [kindArg, names], options) => {
      const kind = argOptional(kindArg, 'kind');
      const targets: { collection: string; name: string }[] = [];
      for (const file of options.filename) {
        for (const resource of await (await import('../../client/read-manifests.js')).loadResources([file])) {
          const { resourceKey } = await import('../../../core/manifests/index.js');
          const [collection, name] = resourceKey(resource).split('/') as [string, string];
          targets.push({ collection, name });
        }
      }
      if (kind !== undefined) {
        const collection = collectionFor(kind);
        if (!collection || collection === 'nodes' || collection === 'pods') {
          throw new GroveError(ErrorCode.InvalidArgument, `delete: "${kind}" is not a kind that can be deleted (app, configmap, secret)`);
        }
        const named = argList(names);
        if (named.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `delete ${kind}: name the resources to delete`);
        for (const name of named) targets.push({ collection, name });
      }
      if (targets.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'delete needs KIND NAME... or -f FILE');
      const client = await openClient(ctx);
      for (const t of targets) {
        await client.delete(`/v1/${t.collection}/${encodeURIComponent(t.name)}`);
        writeLine(ctx.io.stdout, `${singular(t.collection)}/${t.name} deleted`);
      }
    },
  );
}
