import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import type { Act } from '../../verb.js';

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** kubectl label syntax: key=value sets, key- removes. */
export function parseLabelChanges(args: string[]): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const arg of args) {
    if (arg.endsWith('-') && !arg.includes('=')) {
      const key = arg.slice(0, -1);
      if (!LABEL_KEY.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `label "${arg}": "${key}" is not a valid label key`);
      changes[key] = null;
      continue;
    }
    const eq = arg.indexOf('=');
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    if (eq <= 0 || !LABEL_KEY.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `label "${arg}": use key=value to set or key- to remove`);
    if (!LABEL_VALUE.test(value)) throw new GroveError(ErrorCode.InvalidArgument, `label "${arg}": "${value}" is not a valid label value`);
    changes[key] = value;
  }
  return changes;
}

export function registerNode(program: Command, act: Act): void {
  const node = program.command('node').description('label, cordon, uncordon and delete nodes');
  node
    .command('label')
    .description('set (k=v) or remove (k-) node labels')
    .argument('<node>')
    .argument('<labels...>')
    .action(
      act(async (ctx, [name, labels], options) => {
        const changes = parseLabelChanges(labels as string[]);
        await (await openClient(ctx, options)).patch(`/v1/nodes/${encodeURIComponent(name as string)}`, { labels: changes });
        writeLine(ctx.io.stdout, `node/${String(name)} labeled`);
      }),
    );
  node
    .command('delete')
    .description('remove a node: revokes its credentials and broker login, moves its Deployment pods; it can join again only with a join token')
    .argument('<node>')
    .action(
      act(async (ctx, [name], options) => {
        await (await openClient(ctx, options)).delete(`/v1/nodes/${encodeURIComponent(name as string)}`);
        writeLine(ctx.io.stdout, `node/${String(name)} deleted`);
      }),
    );
  for (const [verb, cordoned] of [['cordon', true], ['uncordon', false]] as const) {
    node
      .command(verb)
      .description(cordoned ? 'mark a node unschedulable (its pods keep running)' : 'mark a node schedulable again')
      .argument('<node>')
      .action(
        act(async (ctx, [name], options) => {
          await (await openClient(ctx, options)).patch(`/v1/nodes/${encodeURIComponent(name as string)}`, { cordoned });
          writeLine(ctx.io.stdout, `node/${String(name)} ${verb}ed`);
        }),
      );
  }
}
