/**
 * The pod sandbox part of the plan: PURE. A sandbox holds what a pod's containers share —
 * network (CNI namespace or the host's), IPC and UTS namespaces, /etc/hosts and
 * /etc/resolv.conf — and must exist before any container of the pod starts (init containers
 * included: it is keyed by the pod (podKey), not by container list). From (sandboxes, containers,
 * target) to the steps that close the gap, in this order: removals, recreations, creations.
 *
 * A sandbox is torn down or recreated only once no container of its pod runs: its containers
 * are inside its namespaces, and a removal with a long stop grace must keep its network until
 * the process is gone. Container steps of a pod wait for its sandbox (sandboxFirst).
 */
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import { podKeyOf, type ManagedContainer, type PodSandbox } from '../node-runtime.js';
import { portsOverlap, sandboxNetworkKey, sandboxReady } from '../../runtime/sandbox-model.js';
import { podKey, sandboxRequestOf } from './pod-fields.js';
import { indexTarget } from './containers.js';
import type { Need, Step, StepOf } from './steps.js';

export type SandboxStep = StepOf<'remove-sandbox' | 'recreate-sandbox' | 'create-sandbox'>;

export interface SandboxPlanOptions {
  /** Pods whose sandbox creation is held back by a failure backoff. */
  held?: (pod: string) => boolean;
}

export function planSandboxes(sandboxes: readonly PodSandbox[], containers: readonly ManagedContainer[], target: WirePodTarget[], opts: SandboxPlanOptions = {}): SandboxStep[] {
  const held = opts.held ?? (() => false);
  const pods = indexTarget(target);
  const running = new Set(containers.filter((c) => c.state === 'running').map(podKeyOf));
  const removals: SandboxStep[] = [];
  const recreations: SandboxStep[] = [];
  const creations: SandboxStep[] = [];
  const seen = new Set<string>();
  for (const s of [...sandboxes].sort((a, b) => a.pod.localeCompare(b.pod))) {
    const pod = pods.get(s.pod);
    if (seen.has(s.pod)) continue; // one record per pod by construction; a second one is ignored
    seen.add(s.pod);
    if (running.has(s.pod) || held(s.pod)) continue;
    if (!pod) removals.push({ type: 'remove-sandbox', pod: s.pod, reason: 'not-desired' });
    else if (!s.ready) recreations.push({ type: 'recreate-sandbox', pod, reason: 'broken' });
    else if (s.networkKey !== sandboxNetworkKey(sandboxRequestOf(pod))) recreations.push({ type: 'recreate-sandbox', pod, reason: 'network-changed' });
  }
  // A pod taking over the hostPort of one that is leaving (a rolling update on this node) waits
  // for that sandbox to go instead of failing against it: in this round when its removal is
  // planned (the creation then needs it), else in a later one.
  const removed = new Set(removals.map((r) => (r.type === 'remove-sandbox' ? r.pod : '')));
  const leaving = sandboxes.filter((s) => !pods.has(s.pod));
  for (const pod of pods.values()) {
    const key = podKey(pod);
    if (seen.has(key) || held(key)) continue;
    const { ports } = sandboxRequestOf(pod);
    const blocking = [...new Set(leaving.filter((s) => ports.some((want) => s.ports.some((p) => portsOverlap(p, want)))).map((s) => s.pod))];
    if (blocking.some((p) => !removed.has(p))) continue;
    const needs: Need[] = blocking.map((p) => ({ kind: 'sandbox', pod: p }));
    creations.push({ type: 'create-sandbox', pod, ...(needs.length > 0 ? { needs } : {}) });
  }
  return [...removals, ...recreations, ...creations];
}

/**
 * No container steps outside a ready sandbox: a start or restart of a pod whose sandbox is ready
 * (and made for its network settings) goes as planned; one whose sandbox this round (re)creates
 * needs that step to succeed first; any other waits for a later round. Removals always go.
 */
export function sandboxFirst<S extends Step>(steps: S[], sandboxes: readonly PodSandbox[], made: readonly SandboxStep[]): S[] {
  const making = new Set(made.flatMap((s) => (s.type === 'remove-sandbox' ? [] : [podKey(s.pod)])));
  const out: S[] = [];
  for (const step of steps) {
    if (step.type !== 'start-container' && step.type !== 'restart-container') {
      out.push(step);
    } else if (sandboxReady(sandboxes, sandboxRequestOf(step.pod))) {
      out.push(step);
    } else if (making.has(podKey(step.pod))) {
      out.push({ ...step, needs: [...(step.needs ?? []), { kind: 'sandbox', pod: podKey(step.pod) }] });
    }
  }
  return out;
}
