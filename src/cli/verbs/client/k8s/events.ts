/**
 * core/v1 Events in the CLI: `grove get events [-A] [--for KIND/NAME]` in `kubectl events`'
 * table (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE — -o wide adds kubectl get events' SUBOBJECT,
 * SOURCE, FIRST SEEN, COUNT, NAME; oldest first, "5m (x3 over 10m)" for repeats)
 * and the Events section `describe` ends with, asked for as kubectl asks (fieldSelector on the
 * involved object). Events are served by the server without being a stored kind, so they have
 * their own resource description here. The tables are pure; `now` is given.
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import { byResource } from '../../../../core/objects/kinds.js';
import { since } from '../../../../core/objects/columns/human-duration.js';
import { EVENT_COLUMNS, eventCells, eventCount, eventFirstSeen, eventLastSeen, type EventView } from '../../../../core/objects/columns/columns-events.js';
import { headersOf } from '../../../../core/objects/columns/kind-columns.js';
import type { ApiResource, KubeClient } from './kube-client.js';

export const EVENTS: ApiResource = { group: '', version: 'v1', plural: 'events', namespaced: true, apiVersion: 'v1', kind: 'Event' };

/** The names kubectl accepts for events. */
export function isEventsType(type: string): boolean {
  return ['events', 'event', 'ev'].includes(type.toLowerCase());
}

/** A core/v1 Event, as far as the CLI reads it. */
export type KubeEvent = EventView;

function timeOf(iso: string | undefined): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first, by when each last happened (kubectl's SortableEvents). */
export function sortEvents(events: readonly KubeEvent[]): KubeEvent[] {
  return [...events].sort((a, b) => timeOf(eventLastSeen(a)) - timeOf(eventLastSeen(b)));
}

/** "8s", or "5m (x3 over 10m)" for an event that happened several times. */
export function eventInterval(e: KubeEvent, now: Date): string {
  const count = eventCount(e);
  const last = since(eventLastSeen(e), now);
  return count > 1 ? `${last} (x${count} over ${since(eventFirstSeen(e), now)})` : last;
}

function from(e: KubeEvent): string {
  return e.source?.component || e.reportingController || '';
}

export interface EventTableOptions {
  allNamespaces: boolean;
  now: Date;
  /** -o wide: SUBOBJECT, SOURCE, FIRST SEEN, COUNT and NAME too, where Kubernetes puts them. */
  wide?: boolean;
}

/**
 * `kubectl get events`' columns (shared with the server's Table), NAMESPACE first with -A, and
 * `kubectl events`' LAST SEEN ("5m (x3 over 10m)"), oldest first.
 */
export function eventsTable(events: readonly KubeEvent[], options: EventTableOptions): { headers: string[]; rows: string[][] } {
  const shown = EVENT_COLUMNS.map((c) => options.wide === true || c.priority === 0);
  const pick = (cells: string[]): string[] => cells.filter((_, i) => shown[i]);
  const ns = (e: KubeEvent): string[] => (options.allNamespaces ? [e.metadata.namespace ?? ''] : []);
  const headers = [...(options.allNamespaces ? ['NAMESPACE'] : []), ...pick(headersOf(EVENT_COLUMNS))];
  const rows = sortEvents(events).map((e) => [...ns(e), ...pick(eventCells(e, options.now, eventInterval(e, options.now)))]);
  return { headers, rows };
}

/** The rows of describe's Events section (Type, Reason, Age, From, Message), oldest first. */
export function describeEventRows(events: readonly KubeEvent[], now: Date): string[][] {
  return sortEvents(events).map((e) => [e.type ?? '', e.reason ?? '', eventInterval(e, now), from(e), (e.message ?? '').trim()]);
}

/** `--for pod/web` → the involved object's kind and name, as `kubectl events --for` reads it. */
export function parseFor(value: string): { kind: string; name: string } {
  const slash = value.indexOf('/');
  const kind = slash > 0 ? byResource(value.slice(0, slash)) : undefined;
  const name = value.slice(slash + 1);
  if (slash <= 0 || name === '' || name.includes('/')) throw new GroveError(ErrorCode.InvalidArgument, `--for: ${JSON.stringify(value)} is not KIND/NAME (e.g. pod/web-1, deployment/web)`);
  if (!kind) throw new GroveError(ErrorCode.InvalidArgument, `--for: the server doesn't have a resource type "${value.slice(0, slash)}"`);
  return { kind: kind.kind, name };
}

/** A field selector from [field, value] pairs, as kubectl writes one (values are not escaped: names cannot hold , or =). */
function fieldSelector(pairs: readonly (readonly [string, string | undefined])[]): string {
  return pairs
    .filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '')
    .map(([f, v]) => `${f}=${v}`)
    .join(',');
}

/** Whether `e` is about the object `wanted` describes (checked here too, whatever the server did with the selector). */
function concerns(e: KubeEvent, wanted: KubeEvent['involvedObject']): boolean {
  const io = e.involvedObject ?? {};
  return (Object.keys(wanted) as (keyof typeof wanted)[]).every((k) => wanted[k] === undefined || io[k] === wanted[k]);
}

export interface EventsRequest {
  namespace?: string | undefined;
  /** --for: only this object's events. */
  for?: { kind: string; name: string } | undefined;
}

/** The events in `namespace` (absent: every namespace), of one object when `for` says so. */
export async function listEvents(client: KubeClient, request: EventsRequest): Promise<KubeEvent[]> {
  const wanted = request.for ? { kind: request.for.kind, name: request.for.name } : {};
  const selector = fieldSelector([['involvedObject.kind', request.for?.kind], ['involvedObject.name', request.for?.name]]);
  const items = await client.list(EVENTS, { ...(request.namespace !== undefined ? { namespace: request.namespace } : {}), ...(selector ? { fieldSelector: selector } : {}) });
  return (items as unknown as KubeEvent[]).filter((e) => concerns(e, wanted));
}

/**
 * The events of one object, as `kubectl describe` asks for them (name, namespace, kind, uid);
 * undefined when they cannot be read (a server without events): describe then has no Events
 * section, as kubectl's.
 */
export async function eventsOf(client: KubeClient, object: AnyObject): Promise<KubeEvent[] | undefined> {
  const { name, namespace, uid } = object.metadata as { name: string; namespace?: string; uid?: string };
  const wanted = { name, namespace, kind: object.kind, uid };
  const selector = fieldSelector([['involvedObject.name', name], ['involvedObject.namespace', namespace], ['involvedObject.kind', object.kind], ['involvedObject.uid', uid]]);
  try {
    const items = await client.list(EVENTS, { ...(namespace !== undefined ? { namespace } : {}), fieldSelector: selector });
    return (items as unknown as KubeEvent[]).filter((e) => concerns(e, wanted));
  } catch {
    return undefined;
  }
}
