/**
 * Every controller Grove runs, in the order one pass runs them: deletions first (what goes
 * frees room), then the workload controllers that make pods, then the scheduler that binds
 * them, then pod status from the nodes' reports. The loop runner (src/server/objects/
 * controller-loop.ts) runs the list; each controller also stands alone in its tests.
 */
import type { Controller } from './controller.js';
import { cronJobController } from './cronjob.js';
import { daemonSetController } from './daemonset.js';
import { deploymentController } from './deployment.js';
import { garbageCollector, namespaceController } from './gc.js';
import { jobController } from './job.js';
import { podStatusController } from './pod-status.js';
import { replicaSetController } from './replicaset.js';
import { schedulerController, type SchedulerOptions } from '../scheduling/scheduler-controller.js';

export type ControllerOptions = SchedulerOptions;

export function groveControllers(options: ControllerOptions = {}): Controller[] {
  return [
    namespaceController(),
    garbageCollector(),
    deploymentController(),
    replicaSetController(),
    daemonSetController(),
    jobController(),
    cronJobController(),
    schedulerController(options),
    podStatusController(),
  ];
}

export type { Controller, ControllerSnapshot, NodeReport, ObjectsByKind, Reconciled } from './controller.js';
export { nodeTargetPods, podTarget, podTemplateHashOf } from './node-targets.js';
export { podStatusFromReport } from './pod-status.js';
export { OwnerIndex } from './owner-index.js';
