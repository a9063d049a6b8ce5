import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import { argList, argText, NO_OPTIONS, type Act } from '../../verb.js';

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
  act(node.command('label').description('set (k=v) or remove (k-) node labels').argument('<node>').argument('<labels...>'), NO_OPTIONS, async (ctx, [nameArg, labels]) => {
    const name = argText(nameArg, 'node');
    const changes = parseLabelChanges(argList(labels));
    await (await openClient(ctx)).patch(`/v1/nodes/${encodeURIComponent(name)}`, { labels: changes });
    writeLine(ctx.io.stdout, `node/${name} labeled`);
  });
  act(
    node.command('delete').description('remove a node: revokes its credentials and broker login, moves its Deployment pods; it can join again only with a join token').argument('<node>'),
    NO_OPTIONS,
    async (ctx, [nameArg]) => {
      const name = argText(nameArg, 'node');
      await (await openClient(ctx)).delete(`/v1/nodes/${encodeURIComponent(name)}`);
      writeLine(ctx.io.stdout, `node/${name} deleted`);
    },
  );
  for (const [verb, cordoned] of [['cordon', true], ['uncordon', false]] as const) {
    act(node.command(verb).description(cordoned ? 'mark a node unschedulable (its pods keep running)' : 'mark a node schedulable again').argument('<node>'), NO_OPTIONS, async (ctx, [nameArg]) => {
      const name = argText(nameArg, 'node');
      await (await openClient(ctx)).patch(`/v1/nodes/${encodeURIComponent(name)}`, { cordoned });
      writeLine(ctx.io.stdout, `node/${name} ${verb}ed`);
    });
  }
}
