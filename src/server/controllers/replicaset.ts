/**
 * ReplicaSet → Pods: makes as many active pods as spec.replicas asks, deleting the surplus in
 * the order that costs least (as Kubernetes ranks them, with 0.1's node rules): unbound first,
 * then pods on NotReady nodes, then not-ready pods, then from the node with most pods of the
 * set, newest first. Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 * observedGeneration, from the pods observed at the start of the pass (as Kubernetes does).
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { ControlledIndex, conditionOf, isActiveOwner, isBeingDeleted, isControlledBy, isPodReady, isPodTerminal, matchesLabels, NameSource, nsName, oldestFirst, sameData, terminatingNamespaces, type Pod } from './object-kit.js';
import { newPod } from './pod-factory.js';

type ReplicaSet = KindObject<'ReplicaSet'>;

/** The set's pods that count (not finished, not being deleted). */
export function activePodsOf(rs: ReplicaSet, pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => isControlledBy(p, rs) && !isBeingDeleted(p) && !isPodTerminal(p));
}

/** Surplus pods to delete, `count` of them, cheapest first. */
export function scaleDownVictims(active: readonly Pod[], count: number, nodeReady: (node: string) => boolean): Pod[] {
  const perNode = new Map<string, number>();
  for (const p of active) if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: Pod): number[] => {
    const node = p.spec.nodeName;
    return [node === undefined ? 0 : 1, node !== undefined && !nodeReady(node) ? 0 : 1, isPodReady(p) ? 1 : 0, -(node ? perNode.get(node)! : 0)];
  };
  const sorted = [...active].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return -oldestFirst(a, b); // newest first
  });
  return sorted.slice(0, Math.max(0, count));
}

export function replicaSetStatus(rs: ReplicaSet, active: readonly Pod[]): NonNullable<ReplicaSet['status']> {
  const templateLabels = rs.spec.template.metadata?.labels;
  const ready = active.filter(isPodReady).length;
  return {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => matchesLabels(templateLabels, p.metadata.labels)).length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation ?? 1,
  };
}

export function replicaSetController(): Controller {
  return {
    name: 'replicaset',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const changes: ObjectChange[] = [];
      const names = new NameSource(snapshot.randomSuffix, new Set(snapshot.objects.Pod.map(nsName)));
      const podsBy = new ControlledIndex(snapshot.objects.Pod);
      const ready = new Map(snapshot.objects.Node.map((n) => [n.metadata.name, conditionOf(n.status?.conditions, 'Ready')?.status === 'True']));
      const nodeReady = (node: string): boolean => ready.get(node) ?? false;
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const rs of snapshot.objects.ReplicaSet) {
        if (!isActiveOwner(rs, terminating)) continue;
        const active = activePodsOf(rs, podsBy.of(rs));
        const want = rs.spec.replicas ?? 1;
        const ns = rs.metadata.namespace ?? 'default';
        if (active.length < want) {
          for (let i = active.length; i < want; i++) {
            const pod = newPod({ owner: rs, template: rs.spec.template, names });
            changes.push({ op: 'put', object: pod });
          }
        } else if (active.length > want) {
          for (const p of scaleDownVictims(active, active.length - want, nodeReady)) changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: ns, name: p.metadata.name } });
        }
        const status = replicaSetStatus(rs, active);
        if (!sameData(status, withoutConditions(rs.status))) changes.push({ op: 'status', ref: { kind: 'ReplicaSet', namespace: ns, name: rs.metadata.name }, status: { ...status, ...(rs.status?.conditions ? { conditions: rs.status.conditions } : {}) } });
      }
      return { changes };
    },
  };
}

function withoutConditions(status: ReplicaSet['status']): unknown {
  if (!status) return undefined;
  const { conditions: _c, ...rest } = status;
  return rest;
}
