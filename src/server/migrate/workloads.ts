/**
 * PURE: one 0.1 App with its revisions, rollout record and pods → the Kubernetes objects of
 * its kind (docs/architecture.md "Store layout"): a Deployment with one ReplicaSet per revision
 * (`<app>-<0.1 hash>`, label pod-template-hash = the 0.1 hash), a DaemonSet with one
 * ControllerRevision per revision, a Job, a CronJob; its pods keep their names, nodes and
 * hashes, owned by their ReplicaSet / DaemonSet / Job / CronJob. Nodes identify containers by
 * (pod name, container name, template hash), so nothing restarts.
 */
import { basename, dirname } from 'node:path';
import {
  AUTO_ROLLBACK_ANNOTATION,
  CHANGE_CAUSE_ANNOTATION,
  COMPOSE_PROJECT_LABEL,
  COMPOSE_SERVICE_LABEL,
  CONTROLLER_REVISION_HASH_LABEL,
  DEPLOYMENT_REVISION_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
} from '../../core/objects/annotations.js';
import type { AnyObject } from '../../core/objects/changes.js';
import type { OwnerReference } from '../../core/objects/meta.js';
import { JOB_LIMITS } from '../../core/objects/limits.js';
import type { PodTemplateSpec } from '../../core/objects/pod.js';
import type { KindObject } from '../../core/objects/validate.js';
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import { legacyTemplateHash, type LegacyApp, type LegacyPod, type LegacyPodTemplate, type LegacyRevision, type LegacyRollout } from './legacy-model.js';
import { podTemplateSpec } from './pod-template.js';
import { LAST_ROLLBACK_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION } from '../controllers/deployment.js';

/** What the migration needs from outside: the time, and uids for the objects it creates. */
export interface MigrationContext {
  now: Date;
  newUid: () => string;
}


export interface MigratedApp {
  objects: AnyObject[];
  /** Revisions with no Kubernetes counterpart (Jobs keep no history), by template hash. */
  droppedRevisions: string[];
}

/** Job pod labels, as Kubernetes sets them. */
const JOB_NAME_LABELS = ['batch.kubernetes.io/job-name', 'job-name'] as const;
const JOB_UID_LABELS = ['batch.kubernetes.io/controller-uid', 'controller-uid'] as const;

const LABEL_VALUE_MAX = 63;

/** docker compose's default project name: the compose file's directory, lowercased, [a-z0-9_-] only. */
function composeProject(file: string | undefined, fallback: string): string {
  const dir = file ? basename(dirname(file)) : '';
  const name = dir.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '').slice(0, LABEL_VALUE_MAX).replace(/[^a-z0-9]+$/, '');
  return name || fallback;
}

/**
 * The labels every object of the app and its pod templates carry beyond the 0.1 template's:
 * compose's project/service labels for an app from a compose file (as the objects' compose
 * translation writes them), and a name label when a template had none (a selector needs one).
 */
function addedLabels(app: LegacyApp): Record<string, string> {
  const source = app.meta.source;
  if (source?.format === 'compose') return { [COMPOSE_PROJECT_LABEL]: composeProject(source.file, app.meta.name), [COMPOSE_SERVICE_LABEL]: app.meta.name };
  if (Object.keys(app.spec.template.labels ?? {}).length === 0 && (app.spec.kind === 'Deployment' || app.spec.kind === 'DaemonSet')) {
    return { 'app.kubernetes.io/name': app.meta.name };
  }
  return {};
}

function withLabels(t: PodTemplateSpec, labels: Record<string, string>): PodTemplateSpec {
  if (Object.keys(labels).length === 0) return t;
  return { ...t, metadata: { ...t.metadata, labels: { ...t.metadata?.labels, ...labels } } };
}

function ownerRef(o: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } }): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

function nonEmpty(map: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(map).length > 0 ? map : undefined;
}

/** The conversion of one app; `revisions` and `pods` are the app's own (by the `app` field). */
export function migrateApp(app: LegacyApp, revisions: readonly LegacyRevision[], rollout: LegacyRollout | undefined, pods: readonly LegacyPod[], ctx: MigrationContext): MigratedApp {
  const name = app.meta.name;
  const extra = addedLabels(app);
  const template = (t: LegacyPodTemplate) => withLabels(podTemplateSpec(t), extra);

  // Every template the app has run, by 0.1 hash; the current one gets a revision if 0.1 had none.
  const byHash = new Map(revisions.map((r) => [r.templateHash, r]));
  const currentHash = [...byHash.values()].find((r) => sameTemplate(r.template, app.spec.template))?.templateHash ?? legacyTemplateHash(app.spec.template);
  if (!byHash.has(currentHash)) {
    const next = Math.max(0, ...revisions.map((r) => r.revision)) + 1;
    byHash.set(currentHash, { kind: 'AppRevision', app: name, revision: next, templateHash: currentHash, template: app.spec.template, createdAt: app.meta.updatedAt ?? ctx.now.toISOString() });
  }
  const current = byHash.get(currentHash)!;

  const created = app.meta.createdAt ?? ctx.now.toISOString();
  const annotations: Record<string, string> = { ...app.meta.annotations };
  if (app.spec.autoRollback === false && annotations[AUTO_ROLLBACK_ANNOTATION] === undefined) annotations[AUTO_ROLLBACK_ANNOTATION] = 'false';
  const labels = { ...app.meta.labels, ...extra };
  const selector = { matchLabels: { ...app.spec.template.labels, ...extra } };
  const meta = (extraAnnotations: Record<string, string> = {}) => ({
    name,
    namespace: DEFAULT_NAMESPACE,
    uid: ctx.newUid(),
    generation: app.generation ?? 1,
    creationTimestamp: created,
    ...(nonEmpty(labels) ? { labels } : {}),
    ...(nonEmpty({ ...annotations, ...extraAnnotations }) ? { annotations: { ...annotations, ...extraAnnotations } } : {}),
  });
  // A pod whose revision is gone runs what the app runs now: its hash stays, so it is not restarted.
  const podTemplate = (hash: string) => template((byHash.get(hash) ?? current).template);
  const { strategy } = app.spec;
  const rolling = strategy && (strategy.maxSurge !== undefined || strategy.maxUnavailable !== undefined)
    ? { rollingUpdate: { ...(strategy.maxSurge !== undefined ? { maxSurge: strategy.maxSurge } : {}), ...(strategy.maxUnavailable !== undefined ? { maxUnavailable: strategy.maxUnavailable } : {}) } }
    : {};
  const history = {
    ...(app.spec.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: app.spec.revisionHistoryLimit } : {}),
  };

  switch (kindOf(app)) {
    case 'Deployment': {
      const deployment: KindObject<'Deployment'> = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta({ [DEPLOYMENT_REVISION_ANNOTATION]: String(current.revision), ...lastRollback(rollout) }),
        spec: {
          replicas: app.spec.replicas ?? 1,
          selector,
          template: template(app.spec.template) as never,
          ...(strategy ? { strategy: { type: strategy.type as 'RollingUpdate' | 'Recreate', ...rolling } } : {}),
          ...history,
          ...(app.spec.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: app.spec.progressDeadlineSeconds } : {}),
        },
        status: { observedGeneration: app.generation ?? 1, ...(rollout ? { conditions: [progressing(rollout)] } : {}) },
      };
      const complete = completedRevision(rollout);
      const replicaSets = [...byHash.values()].map((r) =>
        replicaSet(deployment, r, template(r.template), pods.filter((p) => p.templateHash === r.templateHash).length, ctx, r.templateHash === complete?.hash ? complete.at : undefined),
      );
      const rsByHash = new Map(replicaSets.map((rs) => [rs.metadata.labels![POD_TEMPLATE_HASH_LABEL]!, rs]));
      const podObjects = pods.map((p) => pod(p, podTemplate(p.templateHash), POD_TEMPLATE_HASH_LABEL, ownerRef(rsByHash.get(p.templateHash) ?? rsByHash.get(currentHash)!), {}, ctx));
      return { objects: [deployment, ...replicaSets, ...podObjects], droppedRevisions: [] };
    }
    case 'DaemonSet': {
      const daemonSet: KindObject<'DaemonSet'> = {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: meta(),
        spec: {
          selector,
          template: template(app.spec.template) as never,
          ...(strategy ? { updateStrategy: { type: strategy.type as 'RollingUpdate' | 'OnDelete', ...rolling } } : {}),
          ...history,
        },
        status: { observedGeneration: app.generation ?? 1 },
      };
      const revisionObjects = [...byHash.values()].map((r) => controllerRevision(daemonSet, r, template(r.template), ctx));
      const podObjects = pods.map((p) => pod(p, podTemplate(p.templateHash), CONTROLLER_REVISION_HASH_LABEL, ownerRef(daemonSet), {}, ctx));
      return { objects: [daemonSet, ...revisionObjects, ...podObjects], droppedRevisions: [] };
    }
    case 'Job':
    case 'CronJob': {
      const job = app.spec.job ?? runOnceSettings(app);
      const jobSpec = {
        completions: job.completions,
        parallelism: job.parallelism,
        backoffLimit: job.backoffLimit,
        ...(job.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.activeDeadlineSeconds } : {}),
        ...(job.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: job.ttlSecondsAfterFinished } : {}),
        template: template(app.spec.template) as KindObject<'Job'>['spec']['template'],
      };
      let owner: KindObject<'Job'> | KindObject<'CronJob'>;
      let podLabels: Record<string, string> = {};
      if (kindOf(app) === 'Job') {
        owner = { apiVersion: 'batch/v1', kind: 'Job', metadata: meta(), spec: jobSpec };
        const uid = owner.metadata.uid!;
        podLabels = Object.fromEntries([...JOB_NAME_LABELS.map((k) => [k, name]), ...JOB_UID_LABELS.map((k) => [k, uid])]);
      } else {
        const cron = app.spec.cron!;
        owner = {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: meta(),
          spec: {
            schedule: cron.schedule,
            ...(cron.timeZone !== undefined ? { timeZone: cron.timeZone } : {}),
            concurrencyPolicy: cron.concurrencyPolicy,
            suspend: cron.suspend,
            successfulJobsHistoryLimit: cron.successfulJobsHistoryLimit,
            failedJobsHistoryLimit: cron.failedJobsHistoryLimit,
            jobTemplate: { spec: jobSpec },
          },
        };
      }
      // A Job's pods carry the template's hash as pod-template-hash: the node's container identity.
      const podObjects = pods.map((p) => pod(p, podTemplate(p.templateHash), POD_TEMPLATE_HASH_LABEL, ownerRef(owner), podLabels, ctx));
      return { objects: [owner, ...podObjects], droppedRevisions: revisions.map((r) => r.templateHash) };
    }
  }
}

/**
 * The kind the app becomes. 0.1 let compose services without `restart: always|unless-stopped`
 * be Deployments whose pods never (or only on failure) restart; Kubernetes allows that only for
 * run-to-completion pods, so they become Jobs, as the objects' compose translation makes them.
 */
export function kindOf(app: LegacyApp): LegacyApp['spec']['kind'] {
  return app.spec.kind === 'Deployment' && app.spec.template.restartPolicy !== 'Always' ? 'Job' : app.spec.kind;
}

/**
 * Job settings for such a Deployment: its replicas run once each; "never restart" tolerates no
 * failure, on-failure retries up to Grove's ceiling, as the compose translation does.
 */
function runOnceSettings(app: LegacyApp): NonNullable<LegacyApp['spec']['job']> {
  const replicas = Math.max(1, app.spec.replicas ?? 1);
  return { completions: replicas, parallelism: replicas, backoffLimit: app.spec.template.restartPolicy === 'Never' ? 0 : JOB_LIMITS.backoffLimit };
}

function sameTemplate(a: LegacyPodTemplate, b: LegacyPodTemplate): boolean {
  return legacyTemplateHash(a) === legacyTemplateHash(b);
}

/**
 * The revision whose rollout last completed (0.1's stableHash, or the current one when its
 * rollout is Complete) and when: the ReplicaSet gets ROLLOUT_COMPLETE_ANNOTATION, where the
 * Deployment controller's automatic rollback goes (switch notes). 0.1 kept no time for an
 * older stable revision: its last progress time stands in (it completed before that).
 */
function completedRevision(r: LegacyRollout | undefined): { hash: string; at: string } | undefined {
  if (!r) return undefined;
  if (r.phase === 'Complete') return { hash: r.templateHash, at: r.lastProgressAt };
  return r.stableHash !== undefined ? { hash: r.stableHash, at: r.startedAt } : undefined;
}

/** 0.1's last automatic rollback as the Deployment controller writes it (LAST_ROLLBACK_ANNOTATION). */
function lastRollback(r: LegacyRollout | undefined): Record<string, string> {
  const rb = r?.lastRollback;
  if (!rb) return {};
  return { [LAST_ROLLBACK_ANNOTATION]: `revision ${rb.fromRevision} → ${rb.toRevision} at ${rb.at}: ${rb.reason}` };
}

/** The Deployment's Progressing condition, as Kubernetes words each 0.1 rollout phase. */
function progressing(r: LegacyRollout) {
  const base = { type: 'Progressing', lastUpdateTime: r.lastProgressAt, lastTransitionTime: r.startedAt };
  if (r.phase === 'Failed') return { ...base, status: 'False' as const, reason: 'ProgressDeadlineExceeded', message: r.message ?? 'the rollout made no progress within its deadline' };
  if (r.phase === 'Complete') return { ...base, status: 'True' as const, reason: 'NewReplicaSetAvailable', message: r.message ?? 'the rollout is complete' };
  return { ...base, status: 'True' as const, reason: 'ReplicaSetUpdated', message: r.message ?? 'the rollout is progressing' };
}

function replicaSet(d: KindObject<'Deployment'>, r: LegacyRevision, t: PodTemplateSpec, replicas: number, ctx: MigrationContext, completedAt: string | undefined): KindObject<'ReplicaSet'> {
  const hashLabel = { [POD_TEMPLATE_HASH_LABEL]: r.templateHash };
  const annotations: Record<string, string> = { [DEPLOYMENT_REVISION_ANNOTATION]: String(r.revision) };
  if (r.changeCause !== undefined) annotations[CHANGE_CAUSE_ANNOTATION] = r.changeCause;
  if (completedAt !== undefined) annotations[ROLLOUT_COMPLETE_ANNOTATION] = completedAt;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${r.templateHash}`,
      namespace: DEFAULT_NAMESPACE,
      uid: ctx.newUid(),
      generation: 1,
      creationTimestamp: r.createdAt,
      labels: { ...t.metadata?.labels, ...hashLabel },
      annotations,
      ownerReferences: [ownerRef(d)],
    },
    spec: { replicas, selector: { matchLabels: { ...d.spec.selector.matchLabels, ...hashLabel } }, template: withLabels(t, hashLabel) as KindObject<'ReplicaSet'>['spec']['template'] },
    status: { replicas, observedGeneration: 1 },
  };
}

type RevisionTemplate = NonNullable<KindObject<'ControllerRevision'>['data']>['spec']['template'];

function controllerRevision(ds: KindObject<'DaemonSet'>, r: LegacyRevision, t: PodTemplateSpec, ctx: MigrationContext): KindObject<'ControllerRevision'> {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata.name}-${r.templateHash}`,
      namespace: DEFAULT_NAMESPACE,
      uid: ctx.newUid(),
      creationTimestamp: r.createdAt,
      labels: { ...t.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: r.templateHash },
      ...(r.changeCause !== undefined ? { annotations: { [CHANGE_CAUSE_ANNOTATION]: r.changeCause } } : {}),
      ownerReferences: [ownerRef(ds)],
    },
    data: { spec: { template: t as RevisionTemplate } },
    revision: r.revision,
  };
}

function pod(p: LegacyPod, t: PodTemplateSpec, hashLabel: string, owner: OwnerReference, extraLabels: Record<string, string>, ctx: MigrationContext): KindObject<'Pod'> {
  const labels = { ...t.metadata?.labels, ...extraLabels, [hashLabel]: p.templateHash };
  const spec = structuredClone(t.spec);
  if (p.node !== undefined) spec.nodeName = p.node;
  const out: KindObject<'Pod'> = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.meta.name,
      namespace: DEFAULT_NAMESPACE,
      uid: ctx.newUid(),
      creationTimestamp: p.meta.createdAt ?? ctx.now.toISOString(),
      labels,
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [owner],
    },
    spec,
  };
  if (p.node === undefined) {
    // Pending: what 0.1 said about why no node takes it, as Kubernetes' FailedScheduling condition.
    out.status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: p.unschedulable ?? 'no node could take the pod', lastTransitionTime: ctx.now.toISOString() }],
    };
  }
  return out;
}
