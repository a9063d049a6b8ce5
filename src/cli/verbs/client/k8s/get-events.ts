/**
 * `grove get events [-A] [--for KIND/NAME]` (also `ev`, `event`): the namespace's events, or
 * every namespace's, or one object's, in `kubectl events`' table, oldest first; -o prints them
 * as data (json, yaml, jsonpath, name, custom-columns) like any other kind.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { table } from '../../../format.js';
import { writeLine, type CliIO } from '../../../io.js';
import { eventsTable, isEventsType, listEvents, sortEvents, type KubeEvent } from './events.js';
import type { GetOutput } from './get-output.js';
import type { KubeClient } from './kube-client.js';
import { isDataOutput, printData, printLines } from './print-objects.js';

export interface GetEventsRequest {
  namespace: string;
  allNamespaces: boolean;
  for?: { kind: string; name: string } | undefined;
  output?: GetOutput | undefined;
}

/** Whether `get`'s arguments ask for events: `events`, `ev`, `event` alone. */
export function asksForEvents(args: readonly string[]): boolean {
  const types = args[0]?.split('/')[0]?.split(',') ?? [];
  if (!types.some(isEventsType)) return false;
  if (types.length > 1 || args.length > 1 || args[0]!.includes('/')) {
    throw new GroveError(ErrorCode.InvalidArgument, 'events are listed on their own: grove get events [-A] [--for KIND/NAME]');
  }
  return true;
}

export async function runGetEvents(client: KubeClient, io: CliIO, request: GetEventsRequest, now: Date): Promise<void> {
  const events = sortEvents(await listEvents(client, { ...(request.allNamespaces ? {} : { namespace: request.namespace }), for: request.for }));
  const objects = events as unknown as AnyObject[];
  if (isDataOutput(request.output)) return printData(io, request.output!, objects, false);
  if (events.length === 0) {
    writeLine(io.stderr, request.allNamespaces ? 'No events found.' : `No events found in ${request.namespace} namespace.`);
    return;
  }
  if (printLines(io, request.output, objects, (o) => `event/${o.metadata.name}`)) return;
  const t = eventsTable(events as KubeEvent[], { allNamespaces: request.allNamespaces, now, wide: request.output === 'wide' });
  writeLine(io.stdout, table(t.headers, t.rows));
}
