/**
 * PURE: the revision history of apps (Kubernetes' ReplicaSets / ControllerRevisions, reduced
 * to what Grove needs). Every pod template an app has run gets a revision, kept under
 * revisions/<app>/<templateHash>, so that pods of an older version can still be described to
 * their node mid-rollout, and so that a rollback has something to go back to.
 */
import type { App, AppRevision, PodTemplate, RolloutRecord } from '../core/model.js';
import type { StoreOp } from '../store/store.js';
import { revisionHistoryLimit } from './update-strategy.js';

export const REVISION_PREFIX = 'revisions/';
export const ROLLOUT_PREFIX = 'rollouts/';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

export function revisionKey(app: string, hash: string): string {
  return `${REVISION_PREFIX}${app}/${hash}`;
}

export function rolloutKey(app: string): string {
  return ROLLOUT_PREFIX + app;
}

/** Revisions per app, by template hash. */
export type RevisionIndex = Map<string, Map<string, AppRevision>>;

export function indexRevisions(revisions: readonly AppRevision[]): RevisionIndex {
  const index: RevisionIndex = new Map();
  for (const r of revisions) {
    let byHash = index.get(r.app);
    if (!byHash) index.set(r.app, (byHash = new Map()));
    byHash.set(r.templateHash, r);
  }
  return index;
}

/** An app's revisions, newest (highest number) first. */
export function historyOf(index: RevisionIndex, app: string): AppRevision[] {
  return [...(index.get(app)?.values() ?? [])].sort((a, b) => b.revision - a.revision);
}

/** What a pod of (app, hash) runs: its revision's template, if the revision is known. */
export function templateLookup(index: RevisionIndex): (app: string, hash: string) => PodTemplate | undefined {
  return (app, hash) => index.get(app)?.get(hash)?.template;
}

/**
 * Gives the current template of every app a revision, updating `index` in place. A template
 * that becomes current again (a rollback, or an apply of an older manifest) is given the next
 * number, as Kubernetes does, so the history reads in the order things happened. Nothing is
 * written for an app whose current revision is already the newest.
 */
export function recordRevisions(
  apps: readonly App[],
  index: RevisionIndex,
  records: ReadonlyMap<string, RolloutRecord>,
  hashOf: (app: App) => string,
  now: string,
): StoreOp[] {
  const ops: StoreOp[] = [];
  for (const app of apps) {
    const name = app.meta.name;
    const hash = hashOf(app);
    let byHash = index.get(name);
    if (!byHash) index.set(name, (byHash = new Map()));
    const newest = Math.max(0, ...[...byHash.values()].map((r) => r.revision));
    const existing = byHash.get(hash);
    if (existing && (existing.revision === newest || records.get(name)?.templateHash === hash)) continue;
    const cause = app.meta.annotations[CHANGE_CAUSE_ANNOTATION];
    const revision: AppRevision = existing
      ? { ...existing, revision: newest + 1, ...(cause !== undefined ? { changeCause: cause } : {}) }
      : {
          kind: 'AppRevision',
          app: name,
          revision: newest + 1,
          templateHash: hash,
          template: structuredClone(app.spec.template),
          createdAt: now,
          ...(cause !== undefined ? { changeCause: cause } : {}),
        };
    byHash.set(hash, revision);
    ops.push({ type: 'put', key: revisionKey(name, hash), value: revision });
  }
  return ops;
}

/**
 * Deletes revisions beyond the app's revisionHistoryLimit (oldest first), and all revisions of
 * apps that are gone. Never one a pod still runs, the current one, or the last good one (an
 * automatic rollback's target).
 */
export function pruneRevisions(
  apps: readonly App[],
  index: RevisionIndex,
  liveHashes: ReadonlyMap<string, ReadonlySet<string>>,
  records: ReadonlyMap<string, RolloutRecord>,
  hashOf: (app: App) => string,
): StoreOp[] {
  const ops: StoreOp[] = [];
  const appByName = new Map(apps.map((a) => [a.meta.name, a]));
  for (const [name, byHash] of index) {
    const app = appByName.get(name);
    const keep = new Set<string>([...(liveHashes.get(name) ?? [])]);
    if (app) keep.add(hashOf(app));
    const stable = records.get(name)?.stableHash;
    if (stable) keep.add(stable);
    const limit = app ? revisionHistoryLimit(app.spec) : 0;
    let kept = 0;
    for (const r of historyOf(index, name)) {
      if (keep.has(r.templateHash)) continue;
      if (kept < limit) {
        kept++;
        continue;
      }
      byHash.delete(r.templateHash);
      ops.push({ type: 'delete', key: revisionKey(name, r.templateHash) });
    }
    if (byHash.size === 0) index.delete(name);
  }
  return ops;
}
