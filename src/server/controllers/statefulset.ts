/**
 * StatefulSet → Pods `<name>-<ordinal>`, each with its own claims `<template>-<name>-<ordinal>`
 * made from spec.volumeClaimTemplates, as Kubernetes' StatefulSet controller does:
 *
 * - What to create and delete next is the pure planner's (statefulset-plan.ts): OrderedReady or
 *   Parallel, rolling updates in reverse ordinal order down to `partition`, OnDelete.
 * - Template history is kept as ControllerRevisions (daemonset-revisions.ts); a pod's
 *   controller-revision-hash label and status.currentRevision/updateRevision name the revision
 *   (`<name>-<hash>`), as in Kubernetes. A pod below the partition is made from the current
 *   revision's template.
 * - A pod gets hostname = its name and subdomain = spec.serviceName, so the headless Service
 *   gives it the DNS name <pod>.<service>.<ns>.svc.<domain>.
 * - Claims are made before the pod that uses them and never deleted by the controller (scale-down
 *   and deletion keep them, Kubernetes' default Retain policy): a pod that comes back gets its
 *   data back, on the node its volume is on.
 * - Pods go with their template's grace period (marked, stopped by their node, then removed), so
 *   a pod's replacement never runs beside it under the same name.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../core/objects/annotations.js';
import type { PodTemplateSpec } from '../../core/objects/pod.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { currentRevision, pruneRevisions } from './daemonset-revisions.js';
import { ControlledIndex, isActiveOwner, isBeingDeleted, isPodReady, isPodTerminal, NameSource, namespaceOf, nsName, sameData, terminatingNamespaces, type Pod } from './object-kit.js';
import { newPod } from './pod-factory.js';
import { planStatefulSet, type StatefulPodState, type StatefulSetPlanInput } from './statefulset-plan.js';

type StatefulSet = KindObject<'StatefulSet'>;
type ControllerRevision = KindObject<'ControllerRevision'>;
type Claim = KindObject<'PersistentVolumeClaim'>;

/** Labels Kubernetes puts on a StatefulSet's pods (Services may select a single pod by them). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** Kubernetes' default grace when the template sets none. */
const DEFAULT_GRACE_SECONDS = 30;

/** The ordinal of `pod` in `sts` (`<sts>-<n>`), or undefined for a pod not named as its own. */
export function ordinalOf(sts: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${sts.metadata.name}-`;
  const rest = pod.metadata.name.startsWith(prefix) ? pod.metadata.name.slice(prefix.length) : '';
  return /^(0|[1-9][0-9]{0,8})$/.test(rest) ? Number(rest) : undefined;
}

/** The claim `<template>-<sts>-<ordinal>` of claim template `template`. */
export function claimName(sts: StatefulSet, template: string, ordinal: number): string {
  return `${template}-${sts.metadata.name}-${ordinal}`;
}

/** The claim of one template for one pod, as Kubernetes makes it: the template's labels plus the set's selector. */
function claimFor(sts: StatefulSet, template: NonNullable<StatefulSet['spec']['volumeClaimTemplates']>[number], ordinal: number): Claim {
  const labels = { ...template.metadata.labels, ...sts.spec.selector.matchLabels };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(sts, template.metadata.name, ordinal),
      namespace: namespaceOf(sts),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
    },
    spec: structuredClone(template.spec),
  } as Claim;
}

/** Pod `<sts>-<ordinal>` of `template` at revision `revision` (the revision's name). */
export function statefulPod(sts: StatefulSet, template: PodTemplateSpec, ordinal: number, revision: string, names: NameSource): Pod {
  const name = `${sts.metadata.name}-${ordinal}`;
  const pod = newPod({
    owner: sts,
    template,
    names,
    name,
    labels: { [CONTROLLER_REVISION_HASH_LABEL]: revision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
  });
  const spec = pod.spec;
  spec.hostname = name;
  if (sts.spec.serviceName) spec.subdomain = sts.spec.serviceName;
  const claims = sts.spec.volumeClaimTemplates ?? [];
  if (claims.length > 0) {
    // A claim template replaces a template volume of its name (Kubernetes' rule).
    const claimed = new Set(claims.map((c) => c.metadata.name));
    spec.volumes = [
      ...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)),
      ...claims.map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: claimName(sts, c.metadata.name, ordinal) } })),
    ];
  }
  return pod;
}

interface Ctx {
  snapshot: ControllerSnapshot;
  podsBy: ControlledIndex<Pod>;
  revisionsBy: ControlledIndex<ControllerRevision>;
  claims: ReadonlySet<string>;
  podNames: ReadonlySet<string>;
  names: NameSource;
}

function reconcileStatefulSet(sts: StatefulSet, ctx: Ctx): ObjectChange[] {
  const changes: ObjectChange[] = [];
  const ns = namespaceOf(sts);
  const revisions = ctx.revisionsBy.of(sts);
  const rev = currentRevision(sts, revisions, ctx.snapshot.objects.ControllerRevision);
  if (rev.changed) changes.push({ op: 'put', object: rev.revision });
  const updateRevision = rev.revision.metadata.name;
  const byName = new Map([...revisions, rev.revision].map((cr) => [cr.metadata.name, cr]));
  const recorded = sts.status?.currentRevision;
  const current = recorded !== undefined && byName.has(recorded) ? recorded : updateRevision;

  const owned = ctx.podsBy.of(sts);
  const pods: { pod: Pod; state: StatefulPodState }[] = [];
  for (const pod of owned) {
    const ordinal = ordinalOf(sts, pod);
    if (ordinal === undefined) continue;
    const state = {
      ordinal,
      revision: pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '',
      ready: isPodReady(pod),
      terminating: isBeingDeleted(pod),
      failed: isPodTerminal(pod),
    };
    pods.push({ pod, state });
  }
  const strategy = sts.spec.updateStrategy;
  const input: StatefulSetPlanInput = {
    replicas: sts.spec.replicas ?? 1,
    podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
    updateStrategy: strategy?.type === 'OnDelete' ? { type: 'OnDelete' } : { type: 'RollingUpdate', partition: strategy?.rollingUpdate?.partition ?? 0 },
    currentRevision: current,
    updateRevision,
    pods: pods.map((p) => p.state),
  };
  const plan = planStatefulSet(input);
  const grace = sts.spec.template.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  for (const ordinal of plan.delete) {
    changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: ns, name: `${sts.metadata.name}-${ordinal}` }, gracePeriodSeconds: grace });
  }
  for (const { ordinal, revision } of plan.create) {
    const name = `${sts.metadata.name}-${ordinal}`;
    // A pod of that name the set does not own stays; the set waits (Kubernetes reports a conflict).
    if (ctx.podNames.has(`${ns}/${name}`)) continue;
    for (const template of sts.spec.volumeClaimTemplates ?? []) {
      const claim = claimFor(sts, template, ordinal);
      if (!ctx.claims.has(nsName(claim))) changes.push({ op: 'put', object: claim, expect: 'absent' });
    }
    const template = byName.get(revision)?.data?.spec.template ?? sts.spec.template;
    changes.push({ op: 'put', object: statefulPod(sts, template, ordinal, revision, ctx.names), expect: 'absent' });
  }

  changes.push(...pruneRevisions(sts, revisions, rev.hash, owned));
  const status = statefulSetStatus(sts, pods.map((p) => p.pod).filter((p) => !isPodTerminal(p)), input, rev.collisionCount);
  if (!sameData(status, sts.status)) changes.push({ op: 'status', ref: { kind: 'StatefulSet', namespace: ns, name: sts.metadata.name }, status });
  return changes;
}

/** Status as Kubernetes counts it; currentRevision moves to the update revision once every pod runs it. */
export function statefulSetStatus(sts: StatefulSet, pods: readonly Pod[], input: StatefulSetPlanInput, collisionCount: number): NonNullable<StatefulSet['status']> {
  const revisionOf = (p: Pod): string | undefined => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  const ready = pods.filter(isPodReady).length;
  const updated = pods.filter((p) => revisionOf(p) === input.updateRevision).length;
  const done = updated === input.replicas && pods.length === input.replicas;
  const currentRevision = done ? input.updateRevision : input.currentRevision;
  return {
    observedGeneration: sts.metadata.generation ?? 1,
    replicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    currentReplicas: pods.filter((p) => revisionOf(p) === currentRevision).length,
    updatedReplicas: updated,
    currentRevision,
    updateRevision: input.updateRevision,
    ...(collisionCount > 0 ? { collisionCount } : {}),
  };
}

export function statefulSetController(): Controller {
  return {
    name: 'statefulset',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const podNames = new Set(snapshot.objects.Pod.map(nsName));
      const ctx: Ctx = {
        snapshot,
        podsBy: new ControlledIndex(snapshot.objects.Pod),
        revisionsBy: new ControlledIndex(snapshot.objects.ControllerRevision),
        claims: new Set(snapshot.objects.PersistentVolumeClaim.map(nsName)),
        podNames,
        names: new NameSource(snapshot.randomSuffix, new Set(podNames)),
      };
      const changes: ObjectChange[] = [];
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const sts of snapshot.objects.StatefulSet) {
        if (!isActiveOwner(sts, terminating)) continue;
        changes.push(...reconcileStatefulSet(sts, ctx));
      }
      return { changes };
    },
  };
}
