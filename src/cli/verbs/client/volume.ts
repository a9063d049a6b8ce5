import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { NodeVolume } from '../../../core/wire-types.js';
import { openClient } from '../../client/open-client.js';
import { parseOutputFormat, printData } from '../../client/output.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';
import { volumeTable, type VolumeRow } from '../volume-table.js';

interface NodeVolumes {
  node: string;
  volumes: NodeVolume[];
  error?: string;
}

/** `grove volume ls|rm`: named volumes, which live on the nodes (asked through the server). */
export function registerVolume(program: Command, act: Act): void {
  const volume = program.command('volume').description('list and remove named volumes on the nodes');
  volume
    .command('ls')
    .description('list named volumes (every Ready node, or one)')
    .option('--node <node>', 'only this node')
    .option('-o, --output <format>', 'json or yaml')
    .action(
      act(async (ctx, _args, options) => {
        const format = parseOutputFormat(options.output as string | undefined);
        const node = options.node as string | undefined;
        const nodes = await (await openClient(ctx, options)).get<NodeVolumes[]>(`/v1/volumes${node ? `?node=${encodeURIComponent(node)}` : ''}`);
        if (format === 'json' || format === 'yaml') return printData(ctx.io, format, nodes);
        const rows: VolumeRow[] = [];
        for (const n of nodes) {
          if (n.error) rows.push({ node: n.node, name: '', createdAt: '', usedBy: [], error: n.error });
          for (const v of n.volumes) rows.push({ node: n.node, ...v });
        }
        writeLine(ctx.io.stdout, volumeTable(rows, true, new Date()));
      }),
    );
  volume
    .command('rm')
    .description('remove a named volume and its data from a node (refused while a container uses it)')
    .argument('<name>')
    .option('--node <node>', 'the node holding it (required: each node has its own)')
    .action(
      act(async (ctx, [name], options) => {
        const node = options.node as string | undefined;
        if (!node) throw new GroveError(ErrorCode.InvalidArgument, 'volume rm: --node is required (a named volume lives on one node)');
        await (await openClient(ctx, options)).delete(`/v1/nodes/${encodeURIComponent(node)}/volumes/${encodeURIComponent(name as string)}`);
        writeLine(ctx.io.stdout, `volume/${String(name)} removed from node ${node}`);
      }),
    );
}
