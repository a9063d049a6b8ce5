/**
 * core/v1 Event columns, as the Kubernetes API server defines them for `kubectl get events`:
 * LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and with `-o wide` SUBOBJECT and SOURCE (between
 * OBJECT and MESSAGE), FIRST SEEN, COUNT and NAME — Kubernetes interleaves its wide columns, so
 * the definitions carry their priority in order and a row has every cell (the server sends all
 * of them; kubectl hides priority-1 columns without -o wide). Events are not a stored kind
 * (the server keeps them in memory), so they have no place in the kind table (index.ts).
 * `grove get events` prints the same columns, with `kubectl events`' LAST SEEN ("5m (x3 over
 * 10m)", src/cli/verbs/client/k8s/events.ts). Pure.
 */
import { since } from './human-duration.js';
import { column, wideColumn, type ColumnDefinition } from './kind-columns.js';

/** A core/v1 Event, as far as the tables read it. */
export interface EventView {
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
}

export const EVENT_COLUMNS: readonly ColumnDefinition[] = Object.freeze([
  column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'string', 'The object that this event is about.'),
  wideColumn('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].'),
  wideColumn('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.'),
  column('Message', 'string', 'A human-readable description of the status of this operation.'),
  wideColumn('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
  wideColumn('Count', 'integer', 'The number of times this event has occurred.'),
  Object.freeze({ name: 'Name', type: 'string' as const, format: 'name', description: 'Name must be unique within a namespace.', priority: 1 as const }),
]);

/** When the event first happened (its first timestamp, else its own time, else its creation). */
export function eventFirstSeen(e: EventView): string | undefined {
  return e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? undefined;
}

/** When the event last happened: its series', last, own or first time, else its creation. */
export function eventLastSeen(e: EventView): string | undefined {
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? undefined;
}

/** How many times it happened (a singleton of the new API has no count: 1). */
export function eventCount(e: EventView): number {
  return e.series?.count ?? (e.count !== undefined && e.count > 0 ? e.count : 1);
}

/** "pod/web-1": the involved object as kubectl names it. */
export function eventObject(e: EventView): string {
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  return e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
}

/** "kubelet, pi-1": the component, and the host when there is one (kubectl's formatEventSource). */
export function eventSource(e: EventView): string {
  const component = e.source?.component || e.reportingController || '';
  const host = e.source?.host || e.reportingInstance || '';
  return host ? `${component}, ${host}` : component;
}

/** Every cell of the event's row, in EVENT_COLUMNS' order (LAST SEEN given: kubectl events shows more there). */
export function eventCells(e: EventView, now: Date, lastSeen = since(eventLastSeen(e), now)): string[] {
  return [lastSeen, e.type ?? '', e.reason ?? '', eventObject(e), e.involvedObject.fieldPath ?? '', eventSource(e), (e.message ?? '').trim(), since(eventFirstSeen(e), now), String(eventCount(e)), e.metadata.name];
}
