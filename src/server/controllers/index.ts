/**
 * Every controller Grove runs, in the order of one pass. The loop runner (src/server/objects/
 * controller-loop.ts) may give them all one snapshot and commit their changes together in this
 * order, so the order is chosen for that: whatever writes an object (pod status, a binding, a
 * workload's own objects and status) comes before whatever may delete it in the same pass
 * (a ReplicaSet's surplus, an eviction, garbage collection, namespace deletion last), and a
 * delete never precedes a put or status of the same object in one commit. Running each on the
 * snapshot after the previous one's changes also works (and settles in fewer passes).
 *
 * What the changes assume of the object store:
 * - A `put` of an existing object carries the `metadata.resourceVersion` it was read with (a
 *   stale one is a Conflict: read again and rerun); a new object carries none and no uid.
 * - A `put` and a `status` of the same object may come in one list (a new Job record and its
 *   status; a binding and PodScheduled=True): the status applies to the object as put.
 * - Two controllers may delete the same object (the garbage collector and the namespace
 *   controller): a delete of an object already gone is nothing, not an error.
 */
import type { Controller } from './controller.js';
import { cronJobController } from './cronjob.js';
import { endpointSliceController } from './endpointslice.js';
import { serviceLoadBalancerController } from './service-lb.js';
import { ingressStatusController } from './ingress-status.js';
import { daemonSetController } from './daemonset.js';
import { statefulSetController } from './statefulset.js';
import { deploymentController } from './deployment.js';
import { garbageCollector, namespaceController } from './gc.js';
import { jobController } from './job.js';
import { podStatusController } from './pod-status.js';
import { podTerminationController } from './pod-termination.js';
import { replicaSetController } from './replicaset.js';
import { schedulerController, type SchedulerOptions } from '../scheduling/scheduler-controller.js';
import { nodeTaintController } from '../scheduling/node-taints.js';
import { nodeIpamController } from './node-ipam.js';
import { persistentVolumeController } from './volume-binding.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, type PodCidrSettings } from '../../core/network/cluster-ranges.js';

export interface ControllerOptions extends SchedulerOptions {
  /** --cluster-cidr and --node-cidr-mask-size (default 10.42.0.0/16, /24). */
  podCidrs?: PodCidrSettings;
}

export function groveControllers(options: ControllerOptions = {}): Controller[] {
  return [
    nodeIpamController(options.podCidrs ?? { clusterCIDR: DEFAULT_CLUSTER_CIDR, nodeMaskSize: DEFAULT_NODE_CIDR_MASK_SIZE }),
    nodeTaintController(),
    podStatusController(),
    schedulerController({ ...(options.evictionTimeoutMs !== undefined ? { evictionTimeoutMs: options.evictionTimeoutMs } : {}) }),
    deploymentController(),
    replicaSetController(),
    daemonSetController(),
    statefulSetController(),
    jobController(),
    cronJobController(),
    podTerminationController(),
    endpointSliceController(),
    serviceLoadBalancerController(),
    persistentVolumeController(),
    ingressStatusController(),
    garbageCollector(),
    namespaceController(),
  ];
}

export type { Controller, ControllerSnapshot, NodeReport, ObjectsByKind, Reconciled } from './controller.js';
export { nodeTargetPods, nodeTargetsByNode, podTarget, podTemplateHashOf } from './node-targets.js';
export { podStatusFromReport } from './pod-status.js';
export { OwnerIndex } from './owner-index.js';
