/**
 * The node lifecycle controller's part that Grove needs: a cordoned Node (spec.unschedulable,
 * written by `kubectl cordon`, `grove node cordon` or a patch) carries the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint, and an uncordoned one does not, as
 * Kubernetes shows them (`kubectl describe node`: Taints, Unschedulable). The scheduler reads
 * spec.unschedulable itself (placement.ts cordonKeepsOff); the taint is what users and tools see.
 * It also stamps NoExecute taints with timeAdded when they appear (tolerationSeconds count from it).
 * PURE; writes only a Node whose taints are out of step, so a settled cluster writes nothing.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import { UNSCHEDULABLE_TAINT_KEY, type Taint } from '../../core/objects/taint-rules.js';
import type { Controller, ControllerSnapshot, Reconciled } from '../controllers/controller.js';

const UNSCHEDULABLE_TAINT: Taint = { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' };

/** The taints a node should have: its own, with the cordon taint exactly when it is cordoned. */
export function taintsFor(unschedulable: boolean, taints: readonly Taint[] | undefined): Taint[] | undefined {
  const others = (taints ?? []).filter((t) => !(t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule'));
  const wanted = unschedulable ? [...others, UNSCHEDULABLE_TAINT] : others;
  return wanted.length ? wanted : undefined;
}

/**
 * NoExecute taints carry the time they appeared (as Kubernetes' API server stamps them): the
 * clock tolerationSeconds count from. Undefined when every one has it already.
 */
export function stampedTaints(taints: readonly Taint[] | undefined, now: number): Taint[] | undefined {
  if (!(taints ?? []).some((t) => t.effect === 'NoExecute' && !t.timeAdded)) return undefined;
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  return taints!.map((t) => (t.effect === 'NoExecute' && !t.timeAdded ? { ...t, timeAdded: at } : t));
}

export function nodeTaintController(): Controller {
  return {
    name: 'node-lifecycle',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const changes: ObjectChange[] = [];
      for (const node of snapshot.objects.Node) {
        const cordoned = node.spec?.unschedulable === true;
        const has = (node.spec?.taints ?? []).some((t) => t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule');
        const stamped = stampedTaints(node.spec?.taints, snapshot.now);
        if (cordoned === has && !stamped) continue;
        const { taints: _t, ...spec } = node.spec ?? {};
        const taints = taintsFor(cordoned, stamped ?? node.spec?.taints);
        changes.push({ op: 'put', object: { ...node, spec: { ...spec, ...(taints ? { taints } : {}) } } });
      }
      return { changes };
    },
  };
}
