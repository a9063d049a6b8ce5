/**
 * The server's connection caps against its open-file limit. Every API and broker socket is a
 * file descriptor; when the process runs out, accept() fails for the API and the broker alike
 * and everyone is refused until some socket closes. The caps exist to refuse the excess early
 * instead, which only works while they (and what the process needs besides) fit the limit.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../core/logger.js';
import { parseLimits } from '../../../agent/src/runtime/host.js';

/**
 * Descriptors the server needs besides its sockets: the LevelDB stores (the server's and the
 * local agent's), logs, the local agent's shims, pipes and CNI plugin runs. An estimate with
 * room to spare, not a measurement.
 */
export const FD_RESERVE = 512;

export interface ConnectionCaps {
  apiConnections: number;
  /** The embedded broker's cap; absent with an external broker. */
  mqttConnections?: number;
}

/** What is wrong with the caps under `limit` (the soft RLIMIT_NOFILE), or undefined when they fit. */
export function fdBudgetProblem(limit: number | 'unlimited' | undefined, caps: ConnectionCaps): string | undefined {
  if (limit === undefined || limit === 'unlimited') return undefined;
  const needed = caps.apiConnections + (caps.mqttConnections ?? 0) + FD_RESERVE;
  if (needed <= limit) return undefined;
  const parts = [`--max-api-connections ${caps.apiConnections}`, ...(caps.mqttConnections !== undefined ? [`--mqtt-max-connections ${caps.mqttConnections}`] : []), `${FD_RESERVE} for the rest of the server`];
  return (
    `${parts.join(' + ')} = ${needed} file descriptors, more than the open-file limit of ${limit}: ` +
    'at that limit the API and the broker refuse every connection; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n) or lower the caps'
  );
}

/** Reads this process's open-file limit (Node raises the soft limit to the hard one at start) and warns when the caps do not fit. */
export async function warnIfOverFdLimit(log: Logger, caps: ConnectionCaps, limitsFile = '/proc/self/limits'): Promise<void> {
  let limit: number | 'unlimited' | undefined;
  try {
    limit = parseLimits(await readFile(limitsFile, 'utf8')).RLIMIT_NOFILE?.soft;
  } catch {
    return; // not Linux, or /proc not mounted: nothing to compare with
  }
  const problem = fdBudgetProblem(limit, caps);
  if (problem) log.warn({ openFileLimit: limit, ...caps, reserve: FD_RESERVE }, problem);
}
