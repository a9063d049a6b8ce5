/**
 * The kind registry: for every kind Grove stores, its API group and version, its resource names
 * (plural, singular, short names, as kubectl spells them), whether it is namespaced and has a
 * status, and its validator, all from the one line per kind of kind-table.ts (kept apart so the
 * validator generator reads the table without the validators it generates). It reads the
 * table's generated copy without schemas (generate.ts kindNamesSource): the schemas are
 * TypeBox's, and a daemon that imported them would keep TypeBox and every schema in memory.
 * Who needs a kind's schema (OpenAPI, `grove explain`) reads kind-table.ts.
 */
import { KIND_NAMES } from './generated/kind-names.js';
import type { KindName, KindRow } from './kind-table.js';
import { validate, type KindObject, type ValidationResult } from './validate.js';

export type { KindName, KindObject };

export interface KindInfo<K extends KindName = KindName> {
  kind: K;
  /** "v1", "apps/v1", "batch/v1". */
  apiVersion: string;
  /** "" for the core group. */
  group: string;
  version: string;
  /** The resource name in API paths and store keys: "deployments". */
  plural: string;
  singular: string;
  /** kubectl's short names: deploy, rs, ds, po, no, cm, ns, cj. */
  shortNames: readonly string[];
  namespaced: boolean;
  /** Whether objects of the kind have a status the server writes. */
  hasStatus: boolean;
  validate: (value: unknown) => ValidationResult<KindObject<K>>;
}

/** The generated table, checked to name every kind of kind-table.ts. */
const NAMES: { readonly [K in KindName]: Omit<KindRow, 'schema'> } = KIND_NAMES;

function info<K extends KindName>(kind: K): KindInfo<K> {
  const row: Omit<KindRow, 'schema'> = NAMES[kind];
  const slash = row.apiVersion.indexOf('/');
  return Object.freeze({
    apiVersion: row.apiVersion,
    plural: row.plural,
    shortNames: row.shortNames,
    namespaced: row.namespaced,
    hasStatus: row.hasStatus,
    kind,
    group: slash < 0 ? '' : row.apiVersion.slice(0, slash),
    version: slash < 0 ? row.apiVersion : row.apiVersion.slice(slash + 1),
    singular: kind.toLowerCase(),
    validate: (value: unknown) => validate(kind, value),
  });
}

/** The registry: every kind of the table (kind-table.ts) with its names and validator. */
export const KINDS = Object.freeze(Object.fromEntries((Object.keys(NAMES) as KindName[]).map((k) => [k, info(k)]))) as { readonly [K in KindName]: KindInfo<K> };

export const ALL_KINDS: readonly KindInfo[] = Object.freeze(Object.values(KINDS));

/** The kind an object's apiVersion and kind name, or undefined when Grove has no such kind. */
export function kindOf(apiVersion: string, kindName: string): KindInfo | undefined {
  return ALL_KINDS.find((k) => k.kind === kindName && k.apiVersion === apiVersion);
}

/**
 * The kind a resource name means, as kubectl reads it: plural, singular or short name, any
 * case, optionally qualified by its group ("deployments.apps", "deploy.apps"; core kinds unqualified).
 */
export function byResource(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const resource = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return ALL_KINDS.find((k) => (group === undefined || k.group === group) && (k.plural === resource || k.singular === resource || k.shortNames.includes(resource)));
}
