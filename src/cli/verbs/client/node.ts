import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { onOff, option } from '../../config/option.js';
import { count, duration } from '../../config/units.js';
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
  const node = program.command('node').description('label, cordon, uncordon, drain and delete nodes');
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
  for (const [verb, unschedulable] of [['cordon', true], ['uncordon', false]] as const) {
    act(node.command(verb).description(unschedulable ? 'mark a node unschedulable (its pods keep running)' : 'mark a node schedulable again').argument('<node>'), NO_OPTIONS, async (ctx, [nameArg]) => {
      const { KubeClient } = await import('./k8s/kube-client.js');
      const { setUnschedulable } = await import('./k8s/node-drain.js');
      await setUnschedulable(new KubeClient(await openClient(ctx)), ctx.io, argText(nameArg, 'node'), unschedulable);
    });
  }
  act(
    node
      .command('drain')
      .description('cordon a node and evict its pods (through pods/eviction), waiting until they are gone (kubectl drain)')
      .argument('<node>'),
    {
      ignoreDaemonsets: onOff({ description: 'leave DaemonSet pods in place (without it, drain refuses when there are some)' }),
      deleteEmptydirData: onOff({ description: 'evict pods with emptyDir volumes too (their data is lost)' }),
      force: onOff({ description: 'evict pods no controller recreates too (they are gone for good)' }),
      gracePeriod: option({ unit: count(0, 86_400, 'seconds'), description: 'seconds each pod gets to stop (default: its own terminationGracePeriodSeconds)' }),
      timeout: option({ unit: duration, description: 'give up after this long, e.g. 90s, 5m (default: wait as long as it takes)' }),
    },
    async (ctx, [nameArg], options) => {
      const { KubeClient } = await import('./k8s/kube-client.js');
      const { realPause, runDrain } = await import('./k8s/node-drain.js');
      await runDrain(
        new KubeClient(await openClient(ctx)),
        ctx.io,
        {
          node: argText(nameArg, 'node'),
          ignoreDaemonSets: options.ignoreDaemonsets,
          deleteEmptyDirData: options.deleteEmptydirData,
          force: options.force,
          timeoutMs: options.timeout ?? 0,
          gracePeriodSeconds: options.gracePeriod,
        },
        realPause(),
      );
    },
  );
}
