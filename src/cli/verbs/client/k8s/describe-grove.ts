/**
 * The "Grove:" block of describe: what 0.1's describe showed that kubectl has no place for —
 * the grove.io/ settings read back (auto-rollback, update window and lock, start order,
 * devices, groups) and why pods wait for a node (Grove records no Events; the scheduler's
 * reason is the PodScheduled condition's message).
 */
import { formatDependsOn, readGroveAnnotations } from '../../../../core/objects/annotations.js';
import type { KindObject } from '../../../../core/objects/validate.js';
import { windowText } from '../../../../core/update-policy.js';
import type { DescribeText } from './describe-writer.js';

type Annotations = Readonly<Record<string, string>> | undefined;

/** The reason the scheduler gives for a pod without a node, if it gave one. */
export function unschedulableMessage(pod: KindObject<'Pod'>): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
  return c ? c.message || c.reason || 'not scheduled' : undefined;
}

/** The reasons Pending pods have no node, each with how many pods it holds back (first seen first). */
export function failedScheduling(pods: readonly KindObject<'Pod'>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    const message = p.spec.nodeName ? undefined : unschedulableMessage(p);
    if (message) out.set(message, (out.get(message) ?? 0) + 1);
  }
  return out;
}

export interface GroveFacts {
  /** The template's annotations first, then the object's (the first that has a key wins). */
  annotations: Annotations[];
  /** A Deployment's: its progress deadline, for the auto-rollback line. */
  progressDeadlineSeconds?: number;
  pods?: readonly KindObject<'Pod'>[];
  /** A pod's own scheduling message. */
  scheduling?: string | undefined;
}

/** Writes the block when there is something to say. */
export function describeGrove(out: DescribeText, facts: GroveFacts): void {
  const g = readGroveAnnotations(...facts.annotations);
  const lines: [string, string][] = [];
  if (facts.progressDeadlineSeconds !== undefined) lines.push(['Auto Rollback', `${g.autoRollback ? 'on' : 'off'} (progress deadline ${facts.progressDeadlineSeconds}s)`]);
  if (g.update?.window) lines.push(['Update Window', windowText(g.update.window)]);
  if (g.update?.lockMaxSeconds !== undefined) lines.push(['Update Lock Max', `${g.update.lockMaxSeconds}s`]);
  if (g.dependsOn?.length) lines.push(['Depends On', formatDependsOn(g.dependsOn)]);
  if (g.devices?.length) lines.push(['Devices', g.devices.map((d) => `${d.hostPath}${d.containerPath !== d.hostPath ? `:${d.containerPath}` : ''}:${d.permissions}`).join(', ')]);
  if (g.groupNames?.length) lines.push(['Groups', g.groupNames.join(', ')]);
  if (g.evictionTimeoutSeconds !== undefined) lines.push(['Eviction Timeout', `${g.evictionTimeoutSeconds}s`]);
  if (g.arch?.length) lines.push(['Architectures', g.arch.join(', ')]);
  if (facts.scheduling) lines.push(['FailedScheduling', facts.scheduling]);
  for (const [message, count] of failedScheduling(facts.pods ?? [])) lines.push(['FailedScheduling', `${message} (${count} pod${count > 1 ? 's' : ''} Pending)`]);
  if (lines.length === 0) return;
  out.line(0, 'Grove:');
  for (const [key, value] of lines) out.field(1, key, value);
}
