/**
 * The pod sandbox planner: PURE. A sandbox holds what a pod's containers share — network (CNI
 * namespace or the host's), IPC and UTS namespaces, /etc/hosts and /etc/resolv.conf — and must
 * exist before any container of the pod starts (init containers included: it is keyed by pod
 * name, not by container list). From (sandboxes, containers, target) to the steps that close
 * the gap, in this order: removals, recreations, creations.
 *
 * A sandbox is torn down or recreated only once no container of its pod runs: its containers
 * are inside its namespaces, and a removal with a long stop grace must keep its network until
 * the process is gone. Starts of a pod wait (sandboxReady) until its sandbox is ready and has
 * the pod's network settings.
 */
import type { PodTarget } from '../../../src/core/wire-types.js';
import { podPortMappings, portsOverlap, sandboxNetworkKey, type PodSandbox } from '../runtime/sandbox-model.js';
import { Labels, type ManagedContainer } from './node-runtime.js';
import { indexTarget } from './planner.js';

export type SandboxStep =
  | { type: 'create'; pod: PodTarget }
  | { type: 'remove'; pod: string; reason: 'not-desired' }
  /** network-changed: hostNetwork or hostPorts differ; broken: half-created, or its namespaces are gone (reboot). */
  | { type: 'recreate'; pod: PodTarget; reason: 'network-changed' | 'broken' };

export interface SandboxPlanOptions {
  /** Keys ("sandbox:<pod>") whose creation is held back by a failure backoff. */
  held?: (key: string) => boolean;
}

export function sandboxKey(pod: string): string {
  return `sandbox:${pod}`;
}


/** Whether a pod's containers may start: its sandbox is ready and made for its network settings. */
export function sandboxReady(sandboxes: readonly PodSandbox[], pod: PodTarget): boolean {
  return sandboxes.some((s) => s.pod === pod.name && s.ready && s.networkKey === sandboxNetworkKey(pod));
}

export function planSandboxes(sandboxes: readonly PodSandbox[], containers: readonly ManagedContainer[], target: PodTarget[], opts: SandboxPlanOptions = {}): SandboxStep[] {
  const held = opts.held ?? (() => false);
  const pods = indexTarget(target);
  const running = new Set(containers.filter((c) => c.state === 'running').map((c) => c.labels[Labels.pod]));
  const removals: SandboxStep[] = [];
  const recreations: SandboxStep[] = [];
  const creations: SandboxStep[] = [];
  const seen = new Set<string>();
  for (const s of [...sandboxes].sort((a, b) => a.pod.localeCompare(b.pod))) {
    const pod = pods.get(s.pod);
    if (seen.has(s.pod)) continue; // one record per pod by construction; a second one is ignored
    seen.add(s.pod);
    if (running.has(s.pod) || held(sandboxKey(s.pod))) continue;
    if (!pod) removals.push({ type: 'remove', pod: s.pod, reason: 'not-desired' });
    else if (!s.ready) recreations.push({ type: 'recreate', pod, reason: 'broken' });
    else if (s.networkKey !== sandboxNetworkKey(pod)) recreations.push({ type: 'recreate', pod, reason: 'network-changed' });
  }
  // A pod taking over the hostPort of one that is leaving (a rolling update on this node) waits
  // for that sandbox to go instead of failing against it.
  const leaving = sandboxes.filter((s) => !pods.has(s.pod));
  for (const pod of pods.values()) {
    if (seen.has(pod.name) || held(sandboxKey(pod.name))) continue;
    if (podPortMappings(pod).some((want) => leaving.some((s) => s.ports.some((p) => portsOverlap(p, want))))) continue;
    creations.push({ type: 'create', pod });
  }
  return [...removals, ...recreations, ...creations];
}
