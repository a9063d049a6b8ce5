/**
 * `get -w`'s flags and what they ask for: one resource type (names allowed, several types
 * refused as kubectl refuses them), its scope, and how its rows look (the kind's table, or
 * events' table).
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { onOff } from '../../../config/option.js';
import { EVENTS, eventsTable, parseFor, type KubeEvent } from './events.js';
import { asksForEvents } from './get-events.js';
import { resolveOutput, type OutputSpec } from './get-output.js';
import { parseResourceArgs } from './resource-args.js';
import { resourceName } from './resource-names.js';
import { namespaceOf } from './scope-options.js';
import { objectTable } from './tables.js';
import type { RowFormat, WatchRequest } from './watch-get.js';
import { listScope } from './kube-client.js';

export const WATCH_OPTIONS = {
  watch: onOff({ short: '-w', description: 'after listing, print every change until interrupted' }),
  watchOnly: onOff({ description: 'print changes only, without listing first' }),
  outputWatchEvents: onOff({ description: 'with -w: an EVENT column (ADDED, MODIFIED, DELETED)' }),
};

export interface WatchFlags {
  namespace?: string | undefined;
  allNamespaces: boolean;
  selector?: string | undefined;
  fieldSelector?: string | undefined;
  output?: OutputSpec | undefined;
  showValues: boolean;
  for?: string | undefined;
  watchOnly: boolean;
  outputWatchEvents: boolean;
}

export async function watchRequest(words: readonly string[], flags: WatchFlags): Promise<WatchRequest> {
  const namespace = namespaceOf(flags.namespace);
  const common = { output: await resolveOutput(flags.output), watchOnly: flags.watchOnly, outputWatchEvents: flags.outputWatchEvents, showValues: flags.showValues };
  if (asksForEvents(words)) {
    const about = flags.for === undefined ? undefined : parseFor(flags.for);
    const format: RowFormat = {
      headers: eventsTable([], { allNamespaces: flags.allNamespaces, now: new Date(), wide: common.output === 'wide' }).headers,
      row: (o, now) => eventsTable([o as unknown as KubeEvent], { allNamespaces: flags.allNamespaces, now, wide: common.output === 'wide' }).rows[0]!,
      name: (o) => `event/${o.metadata.name}`,
    };
    const fieldSelector = about ? `involvedObject.kind=${about.kind},involvedObject.name=${about.name}` : undefined;
    return { ...common, resource: EVENTS, scope: { ...(flags.allNamespaces ? {} : { namespace }), ...(fieldSelector ? { fieldSelector } : {}) }, names: [], format, ...(about ? { accept: (o: AnyObject) => {
      const involved = (o as unknown as KubeEvent).involvedObject;
      return involved?.kind === about.kind && involved.name === about.name;
    } } : {}) };
  }
  const resources = parseResourceArgs(words, 'get');
  if (resources.length !== 1) throw new GroveError(ErrorCode.InvalidArgument, `watch is only supported on individual resources and resource collections, but ${resources.length} resources were found`);
  const { kind, names } = resources[0]!;
  if (names.length > 0 && flags.allNamespaces) throw new GroveError(ErrorCode.InvalidArgument, 'a resource cannot be retrieved by name across all namespaces');
  const options = (now: Date) => ({ wide: common.output === 'wide', allNamespaces: flags.allNamespaces, withKind: false, now });
  const format: RowFormat = {
    headers: objectTable(kind, [], options(new Date())).headers,
    row: (o: AnyObject, now: Date) => objectTable(kind, [o], options(now)).rows[0]!,
    name: (o) => resourceName(kind, o.metadata.name),
  };
  return {
    ...common,
    resource: kind,
    scope: listScope(kind.namespaced && !flags.allNamespaces ? namespace : undefined, { labelSelector: flags.selector, fieldSelector: flags.fieldSelector }),
    names,
    format,
  };
}
