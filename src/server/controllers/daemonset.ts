/**
 * DaemonSet → one Pod per eligible node, bound by the controller itself (spec.nodeName), with
 * 0.1's rules:
 *
 * - Eligible: the node matches the nodeSelector and grove.io/arch, has room (memory, hostPorts)
 *   and is Ready or never was; a node that stops matching loses its pod, one already running a
 *   pod keeps it through NotReady. Cordon does not keep DaemonSet pods off (as in Kubernetes,
 *   whose DaemonSet pods tolerate node.kubernetes.io/unschedulable).
 * - Updates go node by node (name order). Pods on NotReady nodes are replaced at once and count
 *   against nothing: an offline device must not stall a fleet's rollout. On Ready nodes
 *   maxUnavailable bounds how many are without an available pod at a time; with maxSurge the new
 *   pod starts beside the old one, which goes once the new one is available. OnDelete replaces
 *   no available pod on a Ready node: one deleted by hand (or
 *   not available, or on a NotReady node) comes back on the new template, as in 0.1.
 * - Status as Kubernetes counts it; why nodes miss a pod goes into the PodsScheduled condition.
 */
import type { ObjectChange } from '../../core/objects/changes.js';
import type { KindObject } from '../../core/objects/validate.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../core/objects/annotations.js';
import type { Controller, ControllerSnapshot, Reconciled } from './controller.js';
import { currentRevision, pruneRevisions } from './daemonset-revisions.js';
import { ControlledIndex, controllerOf, isActiveOwner, isBeingDeleted, isPodReady, isPodTerminal, NameSource, nsName, oldestFirst, sameData, setCondition, terminatingNamespaces, type Pod } from './object-kit.js';
import { OwnerIndex } from './owner-index.js';
import { newPod } from './pod-factory.js';
import { hasHostPorts, rollingNumbers } from './rollout-math.js';
import { byName, nodeView, type NodeView } from '../scheduling/node-view.js';
import { nodeSelectionMatches, Placement, rejectionsText } from '../scheduling/placement.js';
import { namespaceLabelsOf } from '../scheduling/affinity.js';
import { podDemands, podDemandsOf, type PodDemands } from '../scheduling/pod-demands.js';
import { DAEMONSET_TOLERATIONS } from '../../core/objects/taint-rules.js';

type DaemonSet = KindObject<'DaemonSet'>;

interface Ctx {
  snapshot: ControllerSnapshot;
  podsBy: ControlledIndex<Pod>;
  revisionsBy: ControlledIndex<KindObject<'ControllerRevision'>>;
  nodes: NodeView[];
  placement: Placement;
  names: NameSource;
}

function selectorText(selector: Readonly<Record<string, string>>): string {
  return Object.keys(selector).sort().map((k) => `${k}=${selector[k]}`).join(',');
}

/** Why the DaemonSet runs on fewer nodes than its selector matches; undefined when none is missed. */
export function daemonSetNote(d: PodDemands, nodes: readonly NodeView[], withPod: ReadonlySet<string>, placement: Placement): string | undefined {
  const selected = Object.keys(d.nodeSelector).length > 0;
  const matching = nodes.filter((n) => nodeSelectionMatches(d, n));
  if (matching.length === 0) return selected ? `0 nodes match nodeSelector ${selectorText(d.nodeSelector)}` : 'no node has joined the cluster';
  const without = matching.filter((n) => !withPod.has(n.name));
  if (without.length === 0) return undefined;
  const of = `${matching.length} nodes${selected ? ` matching nodeSelector ${selectorText(d.nodeSelector)}` : ''}`;
  return `no pod on ${without.length} of ${of}: ${rejectionsText(placement.countRejections(d, without, { ignoreCordon: true })) || 'waiting for the next pass'}`;
}

function reconcileDaemonSet(ds: DaemonSet, ctx: Ctx): ObjectChange[] {
  const changes: ObjectChange[] = [];
  const ns = ds.metadata.namespace ?? 'default';
  const revisions = ctx.revisionsBy.of(ds);
  const rev = currentRevision(ds, revisions, ctx.snapshot.objects.ControllerRevision);
  if (rev.changed) changes.push({ op: 'put', object: rev.revision });
  const hash = rev.hash;
  const own = podDemands(ds.spec.template.spec, ds.spec.template.metadata?.annotations, ds.metadata.annotations);
  // As Kubernetes' DaemonSet controller: its pods tolerate cordon, not-ready and pressure taints.
  const demands: PodDemands = { ...own, tolerations: [...own.tolerations, ...DAEMONSET_TOLERATIONS], namespace: ns, labels: ds.spec.template.metadata?.labels ?? {} };
  const group = ds.metadata.uid!;
  const owned = ctx.podsBy.of(ds).filter((p) => !isBeingDeleted(p)).sort(oldestFirst);
  const mine = owned.filter((p) => !isPodTerminal(p));
  const fresh = new Set<string>();
  const available = (p: Pod): boolean => !fresh.has(p.metadata.name) && isPodReady(p);
  const remove = (p: Pod): void => {
    ctx.placement.delete({ key: nsName(p), node: p.spec.nodeName ?? '', group, demands });
    changes.push({ op: 'delete', ref: { kind: 'Pod', namespace: ns, name: p.metadata.name } });
  };
  const create = (node: string): void => {
    const pod = newPod({ owner: ds, template: ds.spec.template, names: ctx.names, labels: { [CONTROLLER_REVISION_HASH_LABEL]: hash }, nodeName: node });
    fresh.add(pod.metadata.name);
    ctx.placement.add({ key: nsName(pod), node, group, demands });
    changes.push({ op: 'put', object: pod });
  };
  const hashOf = (p: Pod): string | undefined => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];

  // A daemon pod that ended (Failed, Succeeded) is replaced, as Kubernetes' DaemonSet controller does.
  for (const p of owned) if (isPodTerminal(p)) remove(p);
  const byNode = new Map<string, Pod[]>();
  for (const p of mine) {
    // A DaemonSet never has a Pending pod (one left from elsewhere goes).
    if (p.spec.nodeName === undefined) remove(p);
    else byNode.set(p.spec.nodeName, [...(byNode.get(p.spec.nodeName) ?? []), p]);
  }
  const nodeByName = new Map(ctx.nodes.map((n) => [n.name, n]));
  for (const [name, here] of byNode) {
    const node = nodeByName.get(name);
    if (node && ctx.placement.canKeep(demands, node)) continue;
    for (const p of here) remove(p);
    byNode.delete(name);
  }
  const eligible = ctx.nodes.filter((n) => byNode.has(n.name) || ctx.placement.rejection(demands, n, { ignoreCordon: true }) === undefined);
  const updateStrategy = ds.spec.updateStrategy;
  const numbers = rollingNumbers(updateStrategy?.rollingUpdate, eligible.filter((n) => n.ready).length, { daemonSet: true, hostPorts: hasHostPorts(ds.spec.template.spec) });
  const waiting: { node: NodeView; old: Pod }[] = [];
  let unavailable = 0;
  let surging = 0;
  for (const node of eligible) {
    const here = byNode.get(node.name) ?? [];
    if (here.length === 0) {
      create(node.name);
      if (node.ready) unavailable++;
      continue;
    }
    const cur = here.filter((p) => hashOf(p) === hash);
    const old = here.filter((p) => hashOf(p) !== hash);
    // Duplicates go, keeping the oldest of each template.
    for (const p of [...cur.slice(1), ...old.slice(1)]) remove(p);
    const [c, o] = [cur[0], old[0]];
    if (o && (c === undefined || available(c) || !node.ready)) {
      if (c) remove(o);
      else if (!node.ready || !available(o)) {
        // Costs no availability: there was none here (or nobody to judge it).
        replace(o, node);
        if (node.ready) unavailable++;
      } else waiting.push({ node, old: o });
      continue;
    }
    if (o) surging++; // The new pod runs beside the old one until it is available.
    if (node.ready && ![c, o].some((p) => p !== undefined && available(p))) unavailable++;
  }
  function replace(old: Pod, node: NodeView): void {
    remove(old);
    // The new template must fit once the old pod's reservation is released; else only deleted.
    if (ctx.placement.fits(demands, node)) create(node.name);
  }
  if (updateStrategy?.type !== 'OnDelete') {
    for (const { node, old } of waiting) {
      if (numbers.maxSurge > 0) {
        if (surging >= numbers.maxSurge || !ctx.placement.fits(demands, node)) continue;
        create(node.name);
        surging++;
      } else if (unavailable < numbers.maxUnavailable) {
        replace(old, node);
        unavailable++;
      }
    }
  }
  changes.push(...pruneRevisions(ds, revisions, hash, owned));
  const status = daemonSetStatus(ds, mine, eligible, hash, rev.collisionCount, daemonSetNote(demands, ctx.nodes, new Set(eligible.map((n) => n.name)), ctx.placement), ctx.snapshot.now);
  if (!sameData(status, ds.status)) changes.push({ op: 'status', ref: { kind: 'DaemonSet', namespace: ns, name: ds.metadata.name }, status });
  return changes;
}

function daemonSetStatus(ds: DaemonSet, pods: readonly Pod[], eligible: readonly NodeView[], hash: string, collisionCount: number, note: string | undefined, now: number): NonNullable<DaemonSet['status']> {
  const should = new Set(eligible.map((n) => n.name));
  const nodesWith = (filter: (p: Pod) => boolean): Set<string> => new Set(pods.filter((p) => p.spec.nodeName !== undefined && filter(p)).map((p) => p.spec.nodeName!));
  const scheduled = nodesWith(() => true);
  const current = [...scheduled].filter((n) => should.has(n)).length;
  const ready = [...nodesWith(isPodReady)].filter((n) => should.has(n)).length;
  const updated = [...nodesWith((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash)].filter((n) => should.has(n)).length;
  const condition = note
    ? { type: 'PodsScheduled', status: 'False' as const, reason: 'NodesWithoutPod', message: note }
    : { type: 'PodsScheduled', status: 'True' as const, reason: 'AllNodesScheduled' };
  return {
    desiredNumberScheduled: should.size,
    currentNumberScheduled: current,
    numberMisscheduled: scheduled.size - current,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: ready,
    numberUnavailable: Math.max(0, should.size - ready),
    observedGeneration: ds.metadata.generation ?? 1,
    ...(collisionCount > 0 ? { collisionCount } : {}),
    conditions: setCondition(ds.status?.conditions, condition, now),
  };
}

export function daemonSetController(): Controller {
  return {
    name: 'daemonset',
    reconcile(snapshot: ControllerSnapshot): Reconciled {
      const nodes = snapshot.objects.Node.map((n) => nodeView(n, snapshot.reports.get(n.metadata.name))).sort(byName);
      const placement = new Placement(nodes, namespaceLabelsOf(snapshot.objects.Namespace));
      const owners = new OwnerIndex(snapshot.objects);
      for (const p of snapshot.objects.Pod) {
        if (p.spec.nodeName === undefined || isBeingDeleted(p) || owners.isCronRunPod(p)) continue;
        placement.add({ key: nsName(p), node: p.spec.nodeName, group: controllerOf(p)?.uid ?? nsName(p), demands: podDemandsOf(p, owners) });
      }
      const ctx: Ctx = {
        snapshot,
        podsBy: new ControlledIndex(snapshot.objects.Pod),
        revisionsBy: new ControlledIndex(snapshot.objects.ControllerRevision),
        nodes,
        placement,
        names: new NameSource(snapshot.randomSuffix, new Set(snapshot.objects.Pod.map(nsName))) };
      const changes: ObjectChange[] = [];
      const terminating = terminatingNamespaces(snapshot.objects.Namespace);
      for (const ds of snapshot.objects.DaemonSet) {
        if (!isActiveOwner(ds, terminating)) continue;
        changes.push(...reconcileDaemonSet(ds, ctx));
      }
      return { changes };
    },
  };
}
