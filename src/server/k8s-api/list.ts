/**
 * GET on a collection path: a `<Kind>List`, or a watch (watch.ts) with `?watch=1`. Lists follow
 * Kubernetes' rules: label and field selectors; `limit` pages with an opaque `continue` token that
 * reads every page at the first page's resourceVersion (an expired one: 410 with a token that goes
 * on from the latest state); `metadata.remainingItemCount`; resourceVersion "0" = any state,
 * another one = not older than it (Exact with resourceVersionMatch=Exact or when paging).
 */
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import { matches } from '../objects/label-selector.js';
import type { RequestContext } from '../http.js';
import { encodeContinue, LATEST, positionOf, type ContinueToken } from './continue-token.js';
import { FIELD_GETTERS, fieldFilter, type FieldTable } from './field-selector.js';
import { parseListOptions, type ListOptions, type ResourceVersionMatch } from './list-options.js';
import { objectOf, type KeptItem, type ListSnapshots, type SortedItem } from './list-snapshots.js';
import { serveWatch, type WatchDeps, type WatchedResource } from './watch.js';
import type { ApiObject, SourceSelection } from './watch-source.js';

export interface ListedResource extends WatchedResource {
  /** "PodList". */
  listKind: string;
}

export interface CollectionDeps extends WatchDeps {
  /** The selectable fields per kind (field-selector.ts FIELD_GETTERS by default). */
  fieldTables?: Readonly<Record<string, FieldTable>>;
  /** Recent paged lists, so later pages are slices of one read (none: every page reads). */
  snapshots?: ListSnapshots;
}

export interface ListAnswer {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: unknown[];
}

/** The objects a request selects: its namespace, labels and fields. */
export function selectionOf(kind: string, options: ListOptions, namespace: string | undefined, tables: Readonly<Record<string, FieldTable>> = FIELD_GETTERS): SourceSelection {
  const byFields = options.fieldSelector.length > 0 ? fieldFilter(kind, options.fieldSelector, tables) : undefined;
  const byLabels = options.labelSelector.length > 0 ? options.labelSelector : undefined;
  const filter = byFields || byLabels ? (o: ApiObject) => (byLabels === undefined || matches(byLabels, o.metadata.labels)) && (byFields === undefined || byFields(o)) : undefined;
  return { ...(namespace !== undefined ? { namespace } : {}), ...(filter ? { filter } : {}) };
}

/** Serves a GET on a collection: the list, or the watch (resolving when it ends). */
export async function serveCollection(ctx: RequestContext, resource: ListedResource, namespace: string | undefined, deps: CollectionDeps): Promise<ListAnswer | undefined> {
  const options = parseListOptions(ctx.query);
  const selection = selectionOf(resource.kind, options, namespace, deps.fieldTables);
  if (options.watch) {
    await serveWatch(ctx, resource, options, selection, deps);
    return undefined;
  }
  const which = JSON.stringify([resource.apiVersion, resource.kind, namespace ?? '', ctx.query.get('labelSelector') ?? '', ctx.query.get('fieldSelector') ?? '']);
  return serveList(resource, options, selection, deps.snapshots ? { cache: deps.snapshots, which } : undefined);
}

function continueTooOld(token: ContinueToken, cause: unknown): GroveError {
  return new GroveError(
    ErrorCode.Expired,
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    { cause, details: { continue: encodeContinue({ resourceVersion: LATEST, after: token.after }) } },
  );
}

/** Which state a list reads: the latest (no version), or one at or since a version. */
function wantedVersion(options: ListOptions): { resourceVersion?: string; match?: ResourceVersionMatch } {
  const token = options.continue;
  if (token) return token.resourceVersion === LATEST ? {} : { resourceVersion: token.resourceVersion, match: 'Exact' };
  const rv = options.resourceVersion;
  if (rv === undefined || rv === '0') return {};
  return { resourceVersion: rv, match: options.resourceVersionMatch ?? (options.limit !== undefined ? 'Exact' : 'NotOlderThan') };
}

/** The first index whose position is after `after` (items sorted by position). */
function startAfter(items: readonly { position: string }[], after: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.position <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The selection's items at the wanted version, sorted by position (from a snapshot when one is kept). */
async function sortedItems(resource: ListedResource, options: ListOptions, selection: SourceSelection, snapshots: Snapshots | undefined): Promise<{ resourceVersion: string; sorted: readonly (SortedItem | KeptItem)[]; kept?: string }> {
  const token = options.continue;
  const exact = token && token.resourceVersion !== LATEST ? token.resourceVersion : undefined;
  const key = snapshots && exact !== undefined ? snapshotKey(snapshots, exact) : undefined;
  const kept = key !== undefined ? snapshots!.cache.get(key) : undefined;
  if (kept) return { resourceVersion: exact!, sorted: kept, kept: key! };
  let listed;
  try {
    listed = await resource.source.list({ ...selection, ...wantedVersion(options) });
  } catch (err) {
    if (token && isGroveError(err, ErrorCode.Expired)) throw continueTooOld(token, err);
    throw err;
  }
  const sorted = listed.items.map((object) => ({ object, position: positionOf(object) })).sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  if (snapshots && options.limit !== undefined && sorted.length > options.limit) snapshots.cache.put(snapshotKey(snapshots, listed.resourceVersion), sorted);
  return { resourceVersion: listed.resourceVersion, sorted };
}

function snapshotKey(snapshots: Snapshots, resourceVersion: string): string {
  return JSON.stringify([snapshots.which, resourceVersion]);
}

/** Where paged lists are kept: the cache, and what names this request's selection in it. */
interface Snapshots {
  cache: ListSnapshots;
  which: string;
}

export async function serveList(resource: ListedResource, options: ListOptions, selection: SourceSelection, snapshots?: Snapshots): Promise<ListAnswer> {
  const token = options.continue;
  const listed = await sortedItems(resource, options, selection, snapshots);
  const { sorted } = listed;
  const start = token ? startAfter(sorted, token.after) : 0;
  const page = options.limit !== undefined ? sorted.slice(start, start + options.limit) : sorted.slice(start);
  const remaining = sorted.length - start - page.length;
  const metadata: ListAnswer['metadata'] = { resourceVersion: listed.resourceVersion };
  if (remaining > 0) {
    metadata.continue = encodeContinue({ resourceVersion: listed.resourceVersion, after: page[page.length - 1]!.position });
    metadata.remainingItemCount = remaining;
  } else if (listed.kept !== undefined) {
    // The last page: the client is done with this snapshot (another one paging the same list
    // reads its remaining pages at the same version from the source).
    snapshots!.cache.drop(listed.kept);
  }
  const present = resource.present ?? ((o: ApiObject) => o);
  return { apiVersion: resource.apiVersion, kind: resource.listKind, metadata, items: page.map((p) => present(objectOf(p))) };
}
