/**
 * The kind registry: for every kind Grove stores, its API group and version, its resource names
 * (plural, singular, short names, as kubectl spells them), whether it is namespaced and has a
 * status, its schema and its validator. Adding a kind is one schema file, one line here (and in
 * schemas.ts KIND_SCHEMAS), and a controller if it needs one.
 */
import type { TSchema } from '@sinclair/typebox';
import { KIND_SCHEMAS, type KindName } from './schemas.js';
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
  schema: TSchema;
  validate: (value: unknown) => ValidationResult<KindObject<K>>;
}

function kind<K extends KindName>(name: K, apiVersion: string, plural: string, shortNames: string[], namespaced: boolean, hasStatus = true): KindInfo<K> {
  const slash = apiVersion.indexOf('/');
  return Object.freeze({
    kind: name,
    apiVersion,
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
    plural,
    singular: name.toLowerCase(),
    shortNames: Object.freeze(shortNames),
    namespaced,
    hasStatus,
    schema: KIND_SCHEMAS[name],
    validate: (value: unknown) => validate(name, value),
  });
}

export const KINDS = Object.freeze({
  Namespace: kind('Namespace', 'v1', 'namespaces', ['ns'], false),
  Node: kind('Node', 'v1', 'nodes', ['no'], false),
  Pod: kind('Pod', 'v1', 'pods', ['po'], true),
  ConfigMap: kind('ConfigMap', 'v1', 'configmaps', ['cm'], true, false),
  Secret: kind('Secret', 'v1', 'secrets', [], true, false),
  Deployment: kind('Deployment', 'apps/v1', 'deployments', ['deploy'], true),
  ReplicaSet: kind('ReplicaSet', 'apps/v1', 'replicasets', ['rs'], true),
  DaemonSet: kind('DaemonSet', 'apps/v1', 'daemonsets', ['ds'], true),
  ControllerRevision: kind('ControllerRevision', 'apps/v1', 'controllerrevisions', [], true, false),
  Job: kind('Job', 'batch/v1', 'jobs', [], true),
  CronJob: kind('CronJob', 'batch/v1', 'cronjobs', ['cj'], true),
} satisfies { [K in KindName]: KindInfo<K> });

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
