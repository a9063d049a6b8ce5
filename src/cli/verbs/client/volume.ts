import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { WireNodeVolume } from '../../../core/objects/wire.js';
import { openClient } from '../../client/open-client.js';
import { DATA_OUTPUT_OPTION, printData } from '../../client/output.js';
import { writeLine } from '../../io.js';
import { option } from '../../config/option.js';
import { text } from '../../config/units.js';
import { argText, type Act } from '../../verb.js';
import { volumeTable, type VolumeRow } from '../volume-table.js';

interface NodeVolumes {
  node: string;
  volumes: WireNodeVolume[];
  error?: string;
}

/** `grove volume ls|rm`: named volumes, which live on the nodes (asked through the server). */
export function registerVolume(program: Command, act: Act): void {
  const volume = program.command('volume').description('list and remove named volumes on the nodes');
  act(
    volume.command('ls').description('list named volumes (every Ready node, or one)'),
    { node: option({ unit: text('node'), description: 'only this node' }), output: DATA_OUTPUT_OPTION },
    async (ctx, _args, options) => {
      const { node } = options;
      const nodes = await (await openClient(ctx)).get<NodeVolumes[]>(`/v1/volumes${node ? `?node=${encodeURIComponent(node)}` : ''}`);
      if (options.output) return printData(ctx.io, options.output, nodes);
      const rows: VolumeRow[] = [];
      for (const n of nodes) {
        if (n.error) rows.push({ node: n.node, name: '', createdAt: '', usedBy: [], error: n.error });
        for (const v of n.volumes) rows.push({ node: n.node, ...v });
      }
      writeLine(ctx.io.stdout, volumeTable(rows, true, new Date(), 'kubectl'));
    },
  );
  act(
    volume.command('rm').description('remove a named volume and its data from a node (refused while a container uses it)').argument('<name>'),
    { node: option({ unit: text('node'), description: 'the node holding it (required: each node has its own)' }) },
    async (ctx, [nameArg], options) => {
      const name = argText(nameArg, 'name');
      const { node } = options;
      if (!node) throw new GroveError(ErrorCode.InvalidArgument, 'volume rm: --node is required (a named volume lives on one node)');
      await (await openClient(ctx)).delete(`/v1/nodes/${encodeURIComponent(node)}/volumes/${encodeURIComponent(name)}`);
      writeLine(ctx.io.stdout, `volume/${name} removed from node ${node}`);
    },
  );
}
