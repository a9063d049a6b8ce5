/**
 * PURE: a Grove 0.1 server store → the object layout (docs/architecture.md "Store layout";
 * docs/operations.md "Upgrading from 0.1"). Input: every entry of the 0.1 store, sealed values
 * already opened (the caller holds the key); output: the puts and deletes of ONE commit, the
 * records deliberately not carried over (with why), and the problems that stop the upgrade.
 *
 * Nothing is dropped silently: a key the 0.1 layout does not have, or a record without its
 * 0.1 shape, is a problem (the caller refuses to migrate and the 0.1 data stays as it was);
 * records that only made sense beside something gone (a revision of a deleted app) are listed
 * in `dropped`.
 */
import { DEFAULT_NAMESPACE, GroveKeys, LEGACY_KEYS, objectKey } from '../../core/keys.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { KINDS } from '../../core/objects/kinds.js';
import { checkObject, type KindName } from '../../core/objects/validate.js';
import { admitObject } from '../objects/admit.js';
import {
  asLegacyApp,
  asLegacyConfigMap,
  asLegacyNode,
  asLegacyPod,
  asLegacyRevision,
  asLegacyRollout,
  asLegacySecret,
  type LegacyApp,
  type LegacyPod,
  type LegacyRevision,
  type LegacyRollout,
} from './legacy-model.js';
import { migrateConfigMap, migrateNode, migrateSecret } from './records.js';
import { kindOf, migrateApp, type MigrationContext } from './workloads.js';
import { STORE_SCHEMA_VERSION, type SchemaRecord } from './store-schema.js';

export type { MigrationContext };

export { STORE_SCHEMA_VERSION, type SchemaRecord };

export interface LegacyEntry {
  key: string;
  value: unknown;
}

export interface MigrationProblem {
  key: string;
  message: string;
}

export interface MigrationPlan {
  puts: LegacyEntry[];
  deletes: string[];
  dropped: MigrationProblem[];
  problems: MigrationProblem[];
  /** Objects and records written, by resource (deployments, pods, …, tokens). */
  counts: Record<string, number>;
}

/** One 0.1 key: its prefix (or the cluster record) and the names after it. */
interface Classified {
  prefix: keyof typeof LEGACY_KEYS;
  parts: string[];
}

const TWO_PART: readonly (keyof typeof LEGACY_KEYS)[] = [
  'appPrefix', 'rolloutPrefix', 'podPrefix', 'configMapPrefix', 'secretPrefix', 'nodePrefix',
  'tokenPrefix', 'targetPrefix', 'nodeKeyPrefix', 'configRecordPrefix',
];

function classify(key: string): Classified | undefined {
  if (key === LEGACY_KEYS.cluster) return { prefix: 'cluster', parts: [] };
  const parts = key.split('/');
  if (parts.some((p) => p === '')) return undefined;
  const head = `${parts[0]}/`;
  if (head === LEGACY_KEYS.revisionPrefix) return parts.length === 3 ? { prefix: 'revisionPrefix', parts: parts.slice(1) } : undefined;
  const prefix = TWO_PART.find((p) => LEGACY_KEYS[p] === head);
  return prefix && parts.length === 2 ? { prefix, parts: parts.slice(1) } : undefined;
}

/** The 0.1 records, read and grouped; what does not read is a problem. */
interface Legacy {
  apps: Map<string, LegacyApp>;
  revisions: Map<string, LegacyRevision[]>;
  rollouts: Map<string, LegacyRollout>;
  pods: Map<string, LegacyPod[]>;
  /** Records under their own keys: [legacy key, classified, value]. */
  records: [string, Classified, unknown][];
}

function read(entries: readonly LegacyEntry[], problems: MigrationProblem[]): Legacy {
  const legacy: Legacy = { apps: new Map(), revisions: new Map(), rollouts: new Map(), pods: new Map(), records: [] };
  const push = <T>(map: Map<string, T[]>, k: string, v: T) => map.set(k, [...(map.get(k) ?? []), v]);
  const bad = (key: string, what: string): void => void problems.push({ key, message: `not a Grove 0.1 ${what} record` });
  for (const { key, value } of entries) {
    const c = classify(key);
    if (!c) {
      problems.push({ key, message: 'not a key of the Grove 0.1 store layout' });
      continue;
    }
    const name = c.parts[0];
    switch (c.prefix) {
      case 'appPrefix': {
        const app = asLegacyApp(value);
        if (app && app.meta.name === name) legacy.apps.set(name, app);
        else bad(key, 'App');
        break;
      }
      case 'revisionPrefix': {
        const r = asLegacyRevision(value);
        if (r && r.app === name && r.templateHash === c.parts[1]) push(legacy.revisions, name!, r);
        else bad(key, 'app revision');
        break;
      }
      case 'rolloutPrefix': {
        const r = asLegacyRollout(value);
        if (r && r.app === name) legacy.rollouts.set(name, r);
        else bad(key, 'rollout');
        break;
      }
      case 'podPrefix': {
        const p = asLegacyPod(value);
        if (p && p.meta.name === name) push(legacy.pods, p.app, p);
        else bad(key, 'pod');
        break;
      }
      default:
        legacy.records.push([key, c, value]);
    }
  }
  return legacy;
}

/** A 0.1 store → the object layout, in one plan. `entries`' sealed values must be opened. */
export function migrateLegacy(entries: readonly LegacyEntry[], ctx: MigrationContext): MigrationPlan {
  const problems: MigrationProblem[] = [];
  const dropped: MigrationProblem[] = [];
  const puts = new Map<string, unknown>();
  const counts: Record<string, number> = {};
  const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
  const legacy = read(entries, problems);

  const putObject = (given: AnyObject, from: string): void => {
    const kind = given.kind as KindName;
    // Every stored object has a generation (the object store's put sets 1 on a create): without
    // it, re-applying the very same ConfigMap would be "configured", a write for nothing.
    const object = given.metadata.generation === undefined ? ({ ...given, metadata: { ...given.metadata, generation: 1 } } as AnyObject) : given;
    const checked = checkObject(kind, object);
    if (!checked.ok) {
      const why = checked.problems.slice(0, 3).map((p) => `${p.path.join('.') || '(object)'}: ${p.reason}`).join('; ');
      problems.push({ key: from, message: `its ${kind} ${object.metadata.name} would not be valid: ${why}` });
      return;
    }
    const info = KINDS[kind];
    // Stored as every object is (admit.ts): with the code-only defaults too (imagePullPolicy, a
    // Pod's requests from its limits), or the controllers would see the migrated Pods differ
    // from their templates and replace them at the first start.
    puts.set(objectKey(info, info.namespaced ? DEFAULT_NAMESPACE : undefined, object.metadata.name as string), admitObject(kind, checked.value));
    count(info.plural);
  };
  const putRecord = (key: string, value: unknown, what: string): void => {
    puts.set(key, value);
    count(what);
  };

  for (const [name, app] of legacy.apps) {
    const migrated = migrateApp(app, legacy.revisions.get(name) ?? [], legacy.rollouts.get(name), legacy.pods.get(name) ?? [], ctx);
    for (const object of migrated.objects) putObject(object, LEGACY_KEYS.appPrefix + name);
    for (const hash of migrated.droppedRevisions) dropped.push({ key: `${LEGACY_KEYS.revisionPrefix}${name}/${hash}`, message: `${kindOf(app)}s keep no revision history` });
  }
  // What belonged to an app that is gone: 0.1 would have removed it on its next pass.
  const orphan = (key: string, app: string) => dropped.push({ key, message: `its app ${app} does not exist` });
  for (const [app, list] of legacy.revisions) if (!legacy.apps.has(app)) for (const r of list) orphan(`${LEGACY_KEYS.revisionPrefix}${app}/${r.templateHash}`, app);
  for (const app of legacy.rollouts.keys()) if (!legacy.apps.has(app)) orphan(LEGACY_KEYS.rolloutPrefix + app, app);
  for (const [app, list] of legacy.pods) if (!legacy.apps.has(app)) for (const p of list) orphan(LEGACY_KEYS.podPrefix + p.meta.name, app);

  for (const [key, c, value] of legacy.records) migrateRecord(key, c, value, { putObject, putRecord, problems, ctx });

  if (legacy.apps.size > 0 || [...puts.keys()].some((k) => k.includes(`/${DEFAULT_NAMESPACE}/`))) {
    putObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE, uid: ctx.newUid(), creationTimestamp: ctx.now.toISOString() }, status: { phase: 'Active' } }, '(default namespace)');
  }
  const schema: SchemaRecord = { version: STORE_SCHEMA_VERSION, migratedFrom: '0.1', migratedAt: ctx.now.toISOString() };
  puts.set(GroveKeys.schemaVersion, schema);
  // A key the new layout reuses (nodes/<name>) is overwritten, not deleted.
  const deletes = entries.map((e) => e.key).filter((k) => !puts.has(k));
  return { puts: [...puts].map(([key, value]) => ({ key, value })), deletes, dropped, problems, counts };
}

interface RecordSink {
  putObject: (object: AnyObject, from: string) => void;
  putRecord: (key: string, value: unknown, what: string) => void;
  problems: MigrationProblem[];
  ctx: MigrationContext;
}

/** Nodes, ConfigMaps, Secrets, and Grove's own records (moved under grove/ as they are). */
function migrateRecord(key: string, c: Classified, value: unknown, sink: RecordSink): void {
  const name = c.parts[0]!;
  const bad = (what: string): void => void sink.problems.push({ key, message: `not a Grove 0.1 ${what} record` });
  switch (c.prefix) {
    case 'nodePrefix': {
      const n = asLegacyNode(value);
      if (!n || n.meta.name !== name) return bad('node');
      const { node, credential } = migrateNode(n, sink.ctx);
      sink.putObject(node, key);
      sink.putRecord(GroveKeys.nodeCredential(name), credential, 'nodecreds');
      return;
    }
    case 'configMapPrefix': {
      const cm = asLegacyConfigMap(value);
      if (!cm || cm.meta.name !== name) return bad('ConfigMap');
      return sink.putObject(migrateConfigMap(cm, sink.ctx), key);
    }
    case 'secretPrefix': {
      const s = asLegacySecret(value);
      if (!s || s.meta.name !== name) return bad('Secret');
      return sink.putObject(migrateSecret(s, sink.ctx), key);
    }
    case 'tokenPrefix':
      return sink.putRecord(GroveKeys.token(name), value, 'tokens');
    case 'targetPrefix':
      return sink.putRecord(GroveKeys.target(name), value, 'targets');
    case 'nodeKeyPrefix':
      return sink.putRecord(GroveKeys.nodeKey(name), value, 'nodekeys');
    case 'configRecordPrefix':
      return sink.putRecord(GroveKeys.configBundle(name), value, 'configs');
    case 'cluster':
      return sink.putRecord(GroveKeys.cluster, value, 'cluster');
    default:
      sink.problems.push({ key, message: 'not a key of the Grove 0.1 store layout' });
  }
}
