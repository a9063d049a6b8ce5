/**
 * meta.k8s.io Tables: what `kubectl get` asks for (`Accept: application/json;as=Table;v=v1;
 * g=meta.k8s.io`) and prints as its columns. The columns are the kind's (src/core/objects/columns/,
 * the same the Grove CLI prints), `-o wide`'s with priority 1; each row carries the object as
 * the request's `includeObject` says: its metadata (PartialObjectMetadata, the default: kubectl
 * reads namespace and labels from it), the whole object, or nothing. Pure: `now` is given.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { columnsOf, type ColumnDefinition, type KindColumns } from '../../core/objects/columns/index.js';
import { AGE_COLUMN, NAME_COLUMN } from '../../core/objects/columns/kind-columns.js';
import { since } from '../../core/objects/columns/human-duration.js';
import { EVENT_COLUMNS, eventCells, type EventView } from '../../core/objects/columns/columns-events.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** meta.k8s.io version the client asked for (v1beta1 for old clients; the same shape). */
  version: 'v1' | 'v1beta1';
  now: Date;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** The `includeObject` query parameter (absent: Metadata, as the API server defaults). */
export function includeObjectOf(value: string | null): IncludeObject {
  if (value === null || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw new GroveError(ErrorCode.InvalidArgument, `includeObject must be None, Metadata or Object, got ${JSON.stringify(value.slice(0, 64))}`);
}

/** The columns of kinds Grove has no table for (what the API server prints for any object). */
const DEFAULT_COLUMNS: KindColumns<KindName> = {
  columns: [NAME_COLUMN, AGE_COLUMN],
  row: (o, now) => [o.metadata.name, since(o.metadata.creationTimestamp, now)],
};

/** Events (kept in memory, not a stored kind): Kubernetes' columns, wide ones interleaved, every cell sent. */
const EVENT_TABLE: KindColumns<KindName> = {
  columns: EVENT_COLUMNS,
  row: (o, now) => eventCells(o as unknown as EventView, now),
};

/** The columns of a kind by name, or the default Name/Age ones. */
export function columnsForKind(kind: string): KindColumns<KindName> {
  if (kind === 'Event') return EVENT_TABLE;
  return kind in KINDS ? columnsOf(kind as KindName) : DEFAULT_COLUMNS;
}

/** A cell as the column's type says: counts as numbers, anything else as printed. */
function cellValue(column: ColumnDefinition | undefined, text: string): string | number {
  return column?.type === 'integer' && /^\d{1,15}$/.test(text) ? Number(text) : text;
}

function rowObject(object: AnyObject, include: IncludeObject, version: string): unknown {
  if (include === 'Object') return object;
  if (include === 'Metadata') return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
  return undefined;
}

/** A Table of `objects` (all of one kind) with `columns`, the list's metadata kept. */
export function objectTable(columns: KindColumns<KindName>, objects: readonly AnyObject[], meta: ListMeta, options: TableOptions): Record<string, unknown> {
  const definitions = [...columns.columns, ...(columns.wideColumns ?? [])];
  const rows = objects.map((object) => {
    const o = object as Parameters<KindColumns<KindName>['row']>[0];
    const text = [...columns.row(o, options.now), ...(columns.wide ? columns.wide(o, options.now) : [])];
    const cells = text.map((t, i) => cellValue(definitions[i], t));
    const embedded = rowObject(object, options.includeObject, options.version);
    return { cells, ...(embedded !== undefined ? { object: embedded } : {}) };
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: meta,
    columnDefinitions: definitions.map((d) => ({ name: d.name, type: d.type, format: d.format, description: d.description, priority: d.priority })),
    rows,
  };
}

/**
 * A List (`{metadata, items}`) or one object as a Table of its kind: how the GET routes answer
 * a client that asked for one. The list's resourceVersion and continue token are kept.
 */
export function asTable(kind: string, listOrObject: Record<string, unknown>, options: TableOptions): Record<string, unknown> {
  const columns = columnsForKind(kind);
  if (Array.isArray(listOrObject.items)) {
    const meta = (listOrObject.metadata ?? {}) as ListMeta;
    return objectTable(columns, listOrObject.items as AnyObject[], meta, options);
  }
  const object = listOrObject as unknown as AnyObject;
  const rv = (object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  return objectTable(columns, [object], rv !== undefined ? { resourceVersion: rv } : {}, options);
}
