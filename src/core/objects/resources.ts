/**
 * A container's `resources` (Kubernetes quantities, as the objects keep them) in numbers, where
 * they are used: the scheduler reserves requests, the agent sets cgroup limits. Memory reads as
 * Kubernetes reads it ("64M" is 64,000,000 bytes), CPUs in cores, pids as a count.
 */
import { ErrorCode, GroveError, isGroveError } from '../errors.js';
import { parseK8sMemory } from '../manifests/k8s-quantity.js';
import { parseCpus } from '../quantity.js';
import { quoteValue } from '../quote.js';
import type { ResourceList, ResourceRequirements } from './pod-container.js';

/** The runtime refuses smaller memory limits (agent/src/runtime/oci-config.ts MIN_MEMORY_BYTES). */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
export const PIDS_RESOURCE = 'grove.io/pids';
const MAX_PIDS = 4_194_304;

/** A count of processes: a whole number (as Kubernetes' Quantity would read "100"), -1 or 0 = unlimited. */
export function parsePids(value: string | number, field: string): number {
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < -1 || n > MAX_PIDS) {
    throw new GroveError(ErrorCode.InvalidArgument, `${field}: ${quoteValue(String(value))} is not a number of processes (-1 or 0 for no limit, up to ${MAX_PIDS})`);
  }
  return n;
}

/** A container's resources in numbers (what cgroups and the scheduler take). */
export interface ResourceNumbers {
  /** Hard memory limit in bytes (limits.memory). */
  memoryBytes?: number;
  /** CPU limit in cores (limits.cpu). */
  cpus?: number;
  /** limits["grove.io/pids"]. */
  pidsLimit?: number;
  /** What the scheduler reserves on a node (requests.memory; the limit when absent). */
  requestMemoryBytes?: number;
  /** requests.cpu in cores (the limit when absent). */
  requestCpus?: number;
}

type Side = 'limits' | 'requests';

/**
 * The failure of one field: the message names `${path}.${side}.${name}`, and details carry the
 * field (["limits", "memory"]) and the bare reason, for callers that place it themselves.
 */
function fieldError(path: string, field: [Side, string], reason: string, cause?: unknown): GroveError {
  const shown = field[1].includes('/') ? `${field[0]}["${field[1]}"]` : field.join('.');
  return new GroveError(ErrorCode.InvalidArgument, `${path}.${shown}: ${reason}`, { ...(cause ? { cause } : {}), details: { field, reason } });
}

function parse(path: string, side: Side, name: string, value: string | number, parser: (v: string | number, f: string) => number): number {
  try {
    return parser(value, 'value');
  } catch (err) {
    if (!isGroveError(err)) throw err;
    throw fieldError(path, [side, name], err.message.replace(/^value: /, ''), err);
  }
}

function read(list: ResourceList | undefined, side: Side, path: string): { memory?: number; cpu?: number; pids?: number } {
  const out: { memory?: number; cpu?: number; pids?: number } = {};
  if (!list) return out;
  if (list.memory !== undefined) out.memory = parse(path, side, 'memory', list.memory, parseK8sMemory);
  if (list.cpu !== undefined) out.cpu = parse(path, side, 'cpu', list.cpu, parseCpus);
  const pids = list[PIDS_RESOURCE];
  if (pids !== undefined) out.pids = parse(path, side, PIDS_RESOURCE, pids, parsePids);
  return out;
}

/**
 * The numbers of `resources` (a container's), checked as Kubernetes checks them: quantities
 * parse, requests do not exceed limits, and a memory limit is at least 6Mi. A request absent
 * while the limit is set is the limit (Kubernetes' default). Throws InvalidArgument naming the
 * field under `path` (e.g. "spec.containers[0].resources"), with details {field, reason}.
 */
export function containerResources(resources: ResourceRequirements | undefined, path = 'resources'): ResourceNumbers {
  const limits = read(resources?.limits, 'limits', path);
  const requests = read(resources?.requests, 'requests', path);
  const shown = (side: Side, name: 'memory' | 'cpu') => quoteValue(String(resources?.[side]?.[name]));
  if (limits.memory !== undefined && limits.memory < MIN_MEMORY_LIMIT_BYTES) throw fieldError(path, ['limits', 'memory'], `${shown('limits', 'memory')} is below the minimum of 6Mi`);
  for (const name of ['memory', 'cpu'] as const) {
    const limit = name === 'memory' ? limits.memory : limits.cpu;
    const request = name === 'memory' ? requests.memory : requests.cpu;
    if (limit !== undefined && request !== undefined && request > limit) {
      throw fieldError(path, ['requests', name], `${shown('requests', name)} must not be more than the limit ${shown('limits', name)}`);
    }
  }
  const out: ResourceNumbers = {};
  if (limits.memory !== undefined) out.memoryBytes = limits.memory;
  if (limits.cpu !== undefined) out.cpus = limits.cpu;
  if (limits.pids !== undefined) out.pidsLimit = limits.pids;
  const requestMemory = requests.memory ?? limits.memory;
  if (requestMemory !== undefined) out.requestMemoryBytes = requestMemory;
  const requestCpu = requests.cpu ?? limits.cpu;
  if (requestCpu !== undefined) out.requestCpus = requestCpu;
  return out;
}
