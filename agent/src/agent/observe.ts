/**
 * The look at the node a round is planned from: the managed containers, the pod sandboxes, the
 * update locks of the apps that run something (only they can hold anything back), and the
 * probe results, all as plain data taken at one moment.
 */
import type { NodeAfter } from './execute/context.js';
import { appOf, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
import type { Observation } from './plan/plan.js';
import type { Prober } from './prober.js';
import type { UpdateLocks } from './update-locks.js';

/** The containers and sandboxes as they are now. */
export async function lookAtNode(runtime: NodeRuntime): Promise<NodeAfter> {
  const containers = await runtime.list();
  const sandboxes = await runtime.sandboxes?.list();
  return { containers, ...(sandboxes ? { sandboxes } : {}) };
}

/** Apps with a running container on the node: the only ones whose lock can hold anything back. */
export function appsRunning(containers: readonly ManagedContainer[]): string[] {
  return [...new Set(containers.filter((c) => c.state === 'running').map((c) => appOf(c)))];
}

export async function observe(runtime: NodeRuntime, locks: UpdateLocks | undefined, prober: Prober, now: () => number): Promise<Observation> {
  const node = await lookAtNode(runtime);
  const lockedApps = new Set<string>();
  if (locks) for (const app of appsRunning(node.containers)) if (await locks.held(app)) lockedApps.add(app);
  return { ...node, now: now(), lockedApps, probes: prober.snapshot() };
}
