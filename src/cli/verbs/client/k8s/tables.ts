/**
 * Objects → kubectl's table: the kind's columns (kind-columns.ts), `-o wide`'s extra ones, the
 * NAMESPACE column first with -A, and names as `kind.group/name` when several kinds are listed
 * together (as `kubectl get deploy,pods` does). Pure: `now` is given.
 */
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { KindInfo } from '../../../../core/objects/kinds.js';
import type { KindName, KindObject } from '../../../../core/objects/validate.js';
import { cronJobColumns, jobColumns } from './columns-batch.js';
import { configMapColumns, namespaceColumns, nodeColumns, podColumns, secretColumns } from './columns-core.js';
import { controllerRevisionColumns, daemonSetColumns, deploymentColumns, replicaSetColumns } from './columns-workloads.js';
import type { KindColumns } from './kind-columns.js';
import { resourceName } from './resource-names.js';

/** Every kind has its columns: a kind added to the table without them does not compile. */
const COLUMNS: { readonly [K in KindName]: KindColumns<K> } = {
  Namespace: namespaceColumns,
  Node: nodeColumns,
  Pod: podColumns,
  ConfigMap: configMapColumns,
  Secret: secretColumns,
  Deployment: deploymentColumns,
  ReplicaSet: replicaSetColumns,
  DaemonSet: daemonSetColumns,
  ControllerRevision: controllerRevisionColumns,
  Job: jobColumns,
  CronJob: cronJobColumns,
};

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
  const columns = COLUMNS[kind.kind] as unknown as KindColumns<KindName>;
  const wide = options.wide && columns.wideHeaders !== undefined;
  const namespaceColumn = options.allNamespaces && kind.namespaced;
  const headers = [...(namespaceColumn ? ['NAMESPACE'] : []), ...columns.headers, ...(wide ? columns.wideHeaders! : [])];
  const rows = objects.map((object) => {
    const o = object as KindObject<KindName>;
    const cells = columns.row(o, options.now);
    if (options.withKind) cells[0] = resourceName(kind, cells[0]!);
    if (wide) cells.push(...columns.wide!(o, options.now));
    return namespaceColumn ? [(object.metadata as { namespace?: string }).namespace ?? '', ...cells] : cells;
  });
  return { headers, rows };
}
