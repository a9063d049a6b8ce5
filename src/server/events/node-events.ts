/**
 * PURE: a Node's events from two successive sets of its conditions, as the kubelet and the node
 * lifecycle controller record them: NodeReady / NodeNotReady when Ready flips, and the pressure
 * events (NodeHasInsufficientMemory, NodeHasSufficientMemory, NodeHasDiskPressure,
 * NodeHasNoDiskPressure, NodeHasInsufficientPID, NodeHasSufficientPID) when a pressure condition
 * turns True or back to False. Nothing when nothing flipped, so heartbeats record nothing.
 */
import type { Condition } from '../../core/objects/meta.js';
import { EventSource, involvedNode, type EventInput } from './event-types.js';

const PRESSURE_EVENTS: Record<string, { on: string; off: string }> = {
  MemoryPressure: { on: 'NodeHasInsufficientMemory', off: 'NodeHasSufficientMemory' },
  DiskPressure: { on: 'NodeHasDiskPressure', off: 'NodeHasNoDiskPressure' },
  PIDPressure: { on: 'NodeHasInsufficientPID', off: 'NodeHasSufficientPID' },
};

function statusOf(conditions: readonly Condition[] | undefined, type: string): string | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}

export function nodeConditionEvents(name: string, before: readonly Condition[] | undefined, after: readonly Condition[]): EventInput[] {
  const involved = involvedNode(name);
  const out: EventInput[] = [];
  const say = (reason: string, component: string, type: 'Normal' | 'Warning' = 'Normal') =>
    out.push({ involved, type, reason, message: `Node ${name} status is now: ${reason}`, component, host: name });
  const wasReady = statusOf(before, 'Ready');
  const ready = statusOf(after, 'Ready');
  if (ready === 'True' && wasReady !== 'True') say('NodeReady', EventSource.kubelet);
  else if (ready !== undefined && ready !== 'True' && wasReady === 'True') say('NodeNotReady', EventSource.node);
  for (const [type, reasons] of Object.entries(PRESSURE_EVENTS)) {
    const was = statusOf(before, type);
    const is = statusOf(after, type);
    if (is === 'True' && was !== 'True') say(reasons.on, EventSource.kubelet, 'Warning');
    else if (is === 'False' && was === 'True') say(reasons.off, EventSource.kubelet);
  }
  return out;
}
