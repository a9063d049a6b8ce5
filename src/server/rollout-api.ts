/**
 * What `grove rollout status|history|undo|restart` do on the server: read the rollout record
 * and revision history, and change an app's template (undo, restart) in one store commit.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import type { App, AppRevision, RolloutPhase, RolloutRecord } from '../core/model.js';
import type { Store } from '../store/store.js';
import type { Mutex } from './mutex.js';
import { getResource, keyFor } from './resources.js';
import { historyOf, indexRevisions, REVISION_PREFIX, rolloutKey } from './revisions.js';
import { undoTarget } from './rollouts.js';
import type { RolloutProgress } from './scheduler.js';
import { templateHash } from './targets.js';
import { invalid, isObj, onlyKeys } from './validate-primitives.js';

/** As `kubectl rollout restart`: a changed template annotation makes a new revision. */
export const RESTARTED_AT_ANNOTATION = 'grove.io/restartedAt';

export interface RolloutStatusView {
  app: string;
  kind: App['spec']['kind'];
  /** Revision being rolled out; 0 until the controller has seen the app's current template. */
  revision: number;
  /** Pending: the app changed and the controller has not planned the rollout yet. */
  phase: RolloutPhase | 'Pending';
  desired: number;
  updated: number;
  available: number;
  total: number;
  startedAt?: string;
  message?: string;
  lastRollback?: RolloutRecord['lastRollback'];
}

export interface RevisionView {
  revision: number;
  templateHash: string;
  createdAt: string;
  changeCause?: string;
  current: boolean;
  images: string[];
}

export interface RolloutDeps {
  store: Store;
  mutex: Mutex;
  now: () => Date;
  progress: (app: string) => RolloutProgress | undefined;
}

export async function rolloutStatus(deps: RolloutDeps, name: string): Promise<RolloutStatusView> {
  const app = await getResource<App>(deps.store, 'App', name);
  const record = (await deps.store.get<RolloutRecord>(rolloutKey(name)))?.value;
  const hash = templateHash(app);
  const p = deps.progress(name);
  const seen = record?.templateHash === hash;
  return {
    app: name,
    kind: app.spec.kind,
    revision: seen ? record.revision : 0,
    phase: seen ? record.phase : 'Pending',
    desired: p?.desired ?? 0,
    updated: p?.templateHash === hash ? p.updated : 0,
    available: p?.templateHash === hash ? p.updatedAvailable : 0,
    total: p?.total ?? 0,
    ...(seen ? { startedAt: record.startedAt } : {}),
    ...(seen && record.message ? { message: record.message } : {}),
    ...(record?.lastRollback ? { lastRollback: record.lastRollback } : {}),
  };
}

/** The stored revisions of one app, or of every app without `name`. */
export async function revisionsOf(store: Store, name?: string): Promise<AppRevision[]> {
  return (await store.list<AppRevision>(name === undefined ? REVISION_PREFIX : `${REVISION_PREFIX}${name}/`)).map((e) => e.value);
}

export async function rolloutHistory(deps: RolloutDeps, name: string): Promise<RevisionView[]> {
  const app = await getResource<App>(deps.store, 'App', name);
  const hash = templateHash(app);
  return historyOf(indexRevisions(await revisionsOf(deps.store, name)), name).map((r) => ({
    revision: r.revision,
    templateHash: r.templateHash,
    createdAt: r.createdAt,
    ...(r.changeCause !== undefined ? { changeCause: r.changeCause } : {}),
    current: r.templateHash === hash,
    images: r.template.containers.map((c) => c.image),
  }));
}

/** Sets the app's template to an earlier revision's (the previous one unless `toRevision`). */
export async function rolloutUndo(deps: RolloutDeps, name: string, body: unknown): Promise<{ app: string; toRevision: number }> {
  let to: number | undefined;
  if (body !== undefined && body !== null) {
    if (!isObj(body)) throw invalid('body', 'expected {"toRevision": N} or nothing');
    onlyKeys(body, 'body', ['toRevision']);
    if (body.toRevision !== undefined) {
      if (typeof body.toRevision !== 'number' || !Number.isSafeInteger(body.toRevision) || body.toRevision < 1) throw invalid('toRevision', 'expected a revision number');
      to = body.toRevision;
    }
  }
  return deps.mutex.run(async () => {
    const app = await getResource<App>(deps.store, 'App', name);
    const revisions = await revisionsOf(deps.store, name);
    const target = undoTarget(indexRevisions(revisions), name, templateHash(app), to);
    if (!target) {
      throw new GroveError(ErrorCode.NotFound, to !== undefined ? `app "${name}" has no revision ${to} (see grove rollout history ${name})` : `app "${name}" has no earlier revision to go back to`);
    }
    const template = revisions.find((r) => r.templateHash === target.templateHash)!.template;
    if (target.templateHash !== templateHash(app)) await putTemplate(deps, app, structuredClone(template));
    return { app: name, toRevision: target.revision };
  });
}

/** Rolls every pod of the app over to a fresh copy, following its update strategy. */
export async function rolloutRestart(deps: RolloutDeps, name: string): Promise<{ app: string; restartedAt: string }> {
  return deps.mutex.run(async () => {
    const app = await getResource<App>(deps.store, 'App', name);
    const restartedAt = deps.now().toISOString();
    const template = { ...app.spec.template, annotations: { ...app.spec.template.annotations, [RESTARTED_AT_ANNOTATION]: restartedAt } };
    await putTemplate(deps, app, template);
    return { app: name, restartedAt };
  });
}

async function putTemplate(deps: RolloutDeps, app: App, template: App['spec']['template']): Promise<void> {
  const { revision: _revision, ...meta } = app.meta;
  const value: App = { ...app, meta: { ...meta, updatedAt: deps.now().toISOString() }, spec: { ...app.spec, template }, generation: (app.generation ?? 1) + 1 };
  await deps.store.commit([{ type: 'put', key: keyFor('App', app.meta.name), value }]);
}
