/**
 * PURE: the kubelet's pressure conditions of a Node (MemoryPressure, DiskPressure, PIDPressure)
 * from the facts its agent reports, with the kubelet's default thresholds (memory.available <
 * 100Mi, nodefs.available < 10 %) and PIDs in use > 95 % of pid_max. Each condition turns True
 * below its threshold and False again only past a margin above it (150Mi, 15 %, 90 %), so a value
 * that hovers at the threshold does not rewrite the Node (and record events) at every report.
 *
 * The status cache asks for a Node status only when a figure moves from one band to another
 * (pressureBands), so heartbeats whose figures stay in their band cost nothing.
 */
import type { Condition } from '../../core/objects/meta.js';
import type { WireNodeFacts } from '../../core/objects/wire.js';

const MiB = 1024 * 1024;

type Facts = Pick<WireNodeFacts, 'memoryAvailableBytes' | 'diskFreeBytes' | 'diskTotalBytes' | 'processes' | 'processesMax'>;

interface Pressure {
  type: 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
  /** How far from pressure: higher is better; undefined = not known. */
  measure(f: Facts): number | undefined;
  /** Below this: pressure. */
  on: number;
  /** Above this: no pressure any more. */
  off: number;
  reasons: { pressure: string; fine: string };
  messages: { pressure: string; fine: string };
}

export const PRESSURES: readonly Pressure[] = [
  {
    type: 'MemoryPressure',
    measure: (f) => f.memoryAvailableBytes,
    on: 100 * MiB,
    off: 150 * MiB,
    reasons: { pressure: 'KubeletHasInsufficientMemory', fine: 'KubeletHasSufficientMemory' },
    messages: { pressure: 'node has less than 100Mi of memory available', fine: 'kubelet has sufficient memory available' },
  },
  {
    type: 'DiskPressure',
    measure: (f) => (f.diskTotalBytes ? (100 * f.diskFreeBytes) / f.diskTotalBytes : undefined),
    on: 10,
    off: 15,
    reasons: { pressure: 'KubeletHasDiskPressure', fine: 'KubeletHasNoDiskPressure' },
    messages: { pressure: "less than 10% of the data directory's filesystem is free", fine: 'kubelet has no disk pressure' },
  },
  {
    type: 'PIDPressure',
    measure: (f) => (f.processes !== undefined && f.processesMax ? 100 - (100 * f.processes) / f.processesMax : undefined),
    on: 5,
    off: 10,
    reasons: { pressure: 'KubeletHasInsufficientPID', fine: 'KubeletHasSufficientPID' },
    messages: { pressure: 'more than 95% of the process ids are in use', fine: 'kubelet has sufficient PID available' },
  },
];

export const PRESSURE_TYPES: readonly string[] = PRESSURES.map((p) => p.type);

/** "0" pressure, "1" in the margin, "2" fine, "-" unknown, per condition: changes when a report must update the Node. */
export function pressureBands(facts: Facts): string {
  return PRESSURES.map((p) => {
    const v = p.measure(facts);
    return v === undefined ? '-' : v < p.on ? '0' : v <= p.off ? '1' : '2';
  }).join('');
}

/**
 * The pressure conditions for `facts`, each kept as it was (times included) while its status
 * holds. `ready` false: the node stopped reporting, its conditions are Unknown (as Kubernetes'
 * node lifecycle controller marks them). `at`: the RFC 3339 time of a transition.
 */
export function pressureConditions(previous: readonly Condition[] | undefined, facts: Facts | undefined, ready: boolean, at: string): Condition[] {
  const out: Condition[] = [];
  for (const p of PRESSURES) {
    const old = previous?.find((c) => c.type === p.type);
    const value = facts ? p.measure(facts) : undefined;
    let status: 'True' | 'False' | 'Unknown';
    if (!ready) {
      if (!old) continue;
      status = 'Unknown';
    } else if (value === undefined) {
      if (!old || old.status === 'Unknown') continue;
      status = old.status as 'True' | 'False';
    } else if (value < p.on) status = 'True';
    else if (value > p.off) status = 'False';
    // In the margin: stays as it was (False for a node seen for the first time there).
    else status = old?.status === 'True' ? 'True' : 'False';
    if (old && old.status === status) {
      out.push(old);
      continue;
    }
    const c: Condition =
      status === 'Unknown'
        ? { type: p.type, status, reason: 'NodeStatusUnknown', message: 'grove agent stopped posting node status' }
        : status === 'True'
          ? { type: p.type, status, reason: p.reasons.pressure, message: p.messages.pressure }
          : { type: p.type, status, reason: p.reasons.fine, message: p.messages.fine };
    out.push({ ...c, lastHeartbeatTime: at, lastTransitionTime: at });
  }
  return out;
}
