/**
 * What a kind's table is made of: its columns as the Kubernetes API server defines them (name,
 * type, description; the `-o wide` ones with priority 1), and the cells of one object. The
 * server's meta.k8s.io Table (src/server/k8s-api/table.ts) and the CLI's text table
 * (src/cli/verbs/client/k8s/tables.ts, headers in upper case as kubectl prints them) read the same.
 */
import type { KindName, KindObject } from '../validate.js';

/** A meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  /** As Kubernetes names it ("Up-to-date"); kubectl prints it in upper case. */
  name: string;
  /** OpenAPI type of the cells: integer cells are sent as numbers. */
  type: 'string' | 'integer' | 'boolean';
  /** "name" for the NAME column, as the API server marks it. */
  format: string;
  description: string;
  /** 0: always shown; 1: `-o wide` only. */
  priority: 0 | 1;
}

export interface KindColumns<K extends KindName> {
  /** The default columns, Name first. */
  columns: readonly ColumnDefinition[];
  /** Extra columns of `-o wide` (none for kinds kubectl gives none). */
  wideColumns?: readonly ColumnDefinition[];
  row(object: KindObject<K>, now: Date): string[];
  wide?(object: KindObject<K>, now: Date): string[];
}

type ColumnType = ColumnDefinition['type'];

/** A default column. */
export function column(name: string, type: ColumnType, description: string): ColumnDefinition {
  return Object.freeze({ name, type, format: '', description, priority: 0 });
}

/** A column of `-o wide` only. */
export function wideColumn(name: string, type: ColumnType, description: string): ColumnDefinition {
  return Object.freeze({ name, type, format: '', description, priority: 1 });
}

export const NAME_COLUMN: ColumnDefinition = Object.freeze({
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. It is required when creating resources and cannot be updated.',
  priority: 0,
});

export const AGE_COLUMN = column('Age', 'string', 'How long ago the object was created (its creationTimestamp), as kubectl prints durations.');

/** CONTAINERS, IMAGES, SELECTOR: what `-o wide` adds for every kind with a pod template. */
export const TEMPLATE_WIDE_COLUMNS: readonly ColumnDefinition[] = Object.freeze([
  wideColumn('Containers', 'string', 'Names of each container in the template.'),
  wideColumn('Images', 'string', 'Images referenced by each container in the template.'),
  wideColumn('Selector', 'string', 'The label selector of the pods this object manages.'),
]);

/** The column names as kubectl prints them: upper case. */
export function headersOf(columns: readonly ColumnDefinition[]): string[] {
  return columns.map((c) => c.name.toUpperCase());
}
