/**
 * The status a round reports: one PodStatus per target pod (status.ts) from the node as it is
 * after the round, with what the plan and memory add — a pod's bridge address, what a pod waits
 * for (a dependency, an update window or lock), and its Job / CronJob progress folded from its
 * runs. PURE.
 */
import type { DeferredUpdate, PodStatus } from '../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import { podKeyOf, type ManagedContainer } from './node-runtime.js';
import { podKey, statusKey } from './plan/pod-fields.js';
import { markDependencyWaits } from './plan/depends-on.js';
import { foldJobs } from './plan/jobs.js';
import { shownFailure, type PlanMemory } from './plan/memory.js';
import type { Plan } from './plan/plan.js';
import { markDeferred } from './plan/update-gate.js';
import type { ProbeView } from './prober.js';
import { deriveStatus } from './status.js';

export interface StatusReport {
  observedRevision: number;
  pods: PodStatus[];
  /** Apps whose update is held back (window, lock); absent when none. */
  deferred?: DeferredUpdate[];
}

export function statusReport(revision: number, target: readonly WirePodTarget[], planned: Plan, after: readonly ManagedContainer[], memory: PlanMemory, probes: ProbeView): StatusReport {
  // A pod deleted with a grace period is reported while its containers stop, so the server
  // removes it once they are gone (pod-termination.ts), as the kubelet does.
  const stopping = planned.deleted.filter((p) => after.some((c) => podKeyOf(c) === podKey(p)));
  const runs = deriveStatus([...planned.pods, ...stopping], after, (work) => shownFailure(memory, work), probes).map((s) => {
    const ip = memory.podIPs.get(statusKey(s));
    return ip ? { ...s, podIP: ip } : s;
  });
  const pods = markDeferred(foldJobs(target, markDependencyWaits(runs, planned.waits), memory.jobs), planned.deferred);
  return { observedRevision: revision, pods, ...(planned.deferred.length > 0 ? { deferred: planned.deferred } : {}) };
}
