/**
 * core/v1 Events on the Kubernetes paths, read-only (docs/kubectl.md "Nodes, drain and events"):
 *
 *   GET /api/v1/events                              every namespace's
 *   GET /api/v1/namespaces/{ns}/events              one namespace's
 *   GET /api/v1/namespaces/{ns}/events/{name}
 *
 * Lists (and watches) go through the collection handler the wiring passes in (list.ts's, which
 * reads the EventStore as a WatchSource: field selectors such as `involvedObject.name=web-x`,
 * paging, `?watch=1`); writes are refused: events are made by the server. Registered before the
 * object routes, whose `:plural` would take "events" for an unknown kind.
 */
import type { Clock } from '../../core/clock.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { RequestContext, Router } from '../http.js';
import type { EventStore } from '../events/event-store.js';
import type { CoreEvent } from '../events/event-types.js';
import { serveCollection } from './list.js';
import { answerAsRequested, watchPresenter } from './respond.js';
import { statusErrorFormat } from './status.js';
import type { WatchSource } from './watch-source.js';

/** The collection handler: a list (or watch) of `source` in `namespace` (absent: all), answering the request itself or with a body. */
export type ServeEvents = (ctx: RequestContext, source: WatchSource<CoreEvent>, namespace: string | undefined) => Promise<unknown>;

/** Events as discovery announces them (DiscoveryResource, k8s-api/discovery.ts). */
export const EVENT_RESOURCES = [
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true, verbs: ['get', 'list', 'watch'] },
] as const;

/**
 * Until the list/watch handler serves a source: the whole list, no selectors (refused by name,
 * never ignored), no watch, as the object routes answered before it.
 */
export const plainEventList: ServeEvents = async (ctx, source, namespace) => {
  for (const p of ['fieldSelector', 'labelSelector', 'continue']) {
    const v = ctx.query.get(p);
    if (v !== null && v !== '') throw new GroveError(ErrorCode.InvalidArgument, `${p} is not supported by this server yet`);
  }
  const watch = ctx.query.get('watch');
  if (watch === 'true' || watch === '1') throw new GroveError(ErrorCode.InvalidArgument, 'watch is not supported by this server yet');
  const list = await source.list(namespace !== undefined ? { namespace } : {});
  return { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion: list.resourceVersion }, items: list.items };
};

/**
 * Events listed, paged and watched as the stored kinds are (list.ts), answered as Tables with
 * Kubernetes' event columns when kubectl asks for them (get events, get events -w).
 */
export function eventCollection(clock: Clock): ServeEvents {
  return async (ctx, source, namespace) => {
    const now = (): Date => new Date(clock.now());
    const present = watchPresenter(ctx, 'Event', (o) => o, now);
    const body = await serveCollection(ctx, { source, apiVersion: 'v1', kind: 'Event', listKind: 'EventList', present }, namespace, { clock });
    return body === undefined ? undefined : answerAsRequested(ctx, 'Event', body as unknown as Record<string, unknown>, now());
  };
}

function notFound(name: string): GroveError {
  return new GroveError(ErrorCode.NotFound, `events ${JSON.stringify(name)} not found`, { details: { name } });
}

function refuseWrite(): Promise<never> {
  return Promise.reject(new GroveError(ErrorCode.PermissionDenied, 'events are recorded by the server and cannot be written through the API'));
}

export function addEventRoutes(router: Router, events: EventStore, serve: ServeEvents = plainEventList, now: () => Date = () => new Date()): void {
  const add = (method: string, path: string, handler: (ctx: RequestContext) => Promise<unknown>) => router.add(method, path, handler, 'admin', statusErrorFormat);
  add('GET', '/api/v1/events', (ctx) => serve(ctx, events, undefined));
  add('GET', '/api/v1/namespaces/:namespace/events', (ctx) => serve(ctx, events, ctx.params.namespace));
  add('GET', '/api/v1/namespaces/:namespace/events/:name', async (ctx) => {
    const event = events.get(ctx.params.namespace!, ctx.params.name!);
    if (!event) throw notFound(ctx.params.name!);
    return answerAsRequested(ctx, 'Event', event as unknown as Record<string, unknown>, now());
  });
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    add(method, '/api/v1/namespaces/:namespace/events', refuseWrite);
    add(method, '/api/v1/namespaces/:namespace/events/:name', refuseWrite);
  }
}
