/**
 * Objects → kubectl's table: the kind's columns (src/core/objects/columns/), `-o wide`'s extra
 * ones, the NAMESPACE column first with -A, and names as `kind.group/name` when several kinds
 * are listed together (as `kubectl get deploy,pods` does). Pure: `now` is given.
 */
import type { AnyObject } from '../../../../core/objects/changes.js';
import { columnsOf, headersOf } from '../../../../core/objects/columns/index.js';
import type { KindInfo } from '../../../../core/objects/kinds.js';
import type { KindName, KindObject } from '../../../../core/objects/validate.js';
import { resourceName } from './resource-names.js';

export interface TableOptions {
  wide: boolean;
  /** -A: a NAMESPACE column first (namespaced kinds only). */
  allNamespaces: boolean;
  /** Names as `deployment.apps/web` (several kinds in one listing). */
  withKind: boolean;
  now: Date;
}

export interface Table {
  headers: string[];
  rows: string[][];
}

export function objectTable(kind: KindInfo, objects: readonly AnyObject[], options: TableOptions): Table {
  const columns = columnsOf(kind.kind);
  const wide = options.wide && columns.wideColumns !== undefined;
  const namespaceColumn = options.allNamespaces && kind.namespaced;
  const headers = [...(namespaceColumn ? ['NAMESPACE'] : []), ...headersOf(columns.columns), ...(wide ? headersOf(columns.wideColumns!) : [])];
  const rows = objects.map((object) => {
    const o = object as KindObject<KindName>;
    const cells = columns.row(o, options.now);
    if (options.withKind) cells[0] = resourceName(kind, cells[0]!);
    if (wide) cells.push(...columns.wide!(o, options.now));
    return namespaceColumn ? [(object.metadata as { namespace?: string }).namespace ?? '', ...cells] : cells;
  });
  return { headers, rows };
}
