/** What a kind's table is made of: kubectl's columns, and its `-o wide` extra columns. */
import type { KindName, KindObject } from '../../../../core/objects/validate.js';

export interface KindColumns<K extends KindName> {
  /** The default columns, NAME first. */
  headers: readonly string[];
  /** Extra columns of `-o wide` (none for kinds kubectl gives none). */
  wideHeaders?: readonly string[];
  row(object: KindObject<K>, now: Date): string[];
  wide?(object: KindObject<K>, now: Date): string[];
}
