/**
 * One batched transaction of a host networking tool fed on stdin: `iptables-restore --noflush`
 * (a whole rule set in one atomic commit, as kube-proxy does: never one process per rule) and
 * `ip -batch -` (many routes and neighbours in one process), `bridge -batch -` (VXLAN fdb entries). The overlay, the
 * service proxier and the pod egress rules all program the node through here.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { runCommand } from '../run-command.js';

export type BatchTool = 'iptables-restore' | 'ip' | 'bridge';

export interface BatchCommandOptions {
  /** Path of the tool (default: looked up on PATH). */
  path?: string;
  /** Default 30 s: a big rule set on a slow board takes a while; a stuck xtables lock must not hang the agent. */
  timeoutMs?: number;
}

const ARGS: Readonly<Record<BatchTool, readonly string[]>> = {
  // --wait: queue behind another xtables user (CNI plugins, the firewall) instead of failing.
  'iptables-restore': ['--noflush', '--wait'],
  ip: ['-batch', '-'],
  // VXLAN forwarding entries (fdb) are iproute2's `bridge` tool's, not `ip`'s.
  bridge: ['-batch', '-'],
};

/** Runs `tool` with `input` on stdin; throws RuntimeFailed naming the tool and its first error line. */
export async function runBatch(tool: BatchTool, input: string, options: BatchCommandOptions = {}): Promise<void> {
  if (input.length === 0) return;
  const result = await runCommand(options.path ?? tool, ARGS[tool], { timeoutMs: options.timeoutMs ?? 30_000, input, maxOutput: 8192 });
  if (result.exitCode === 0) return;
  const first = result.output.trim().split('\n').find((line) => line.trim().length > 0) ?? 'no output';
  const how = result.timedOut ? 'timed out' : `exit ${result.exitCode ?? 'signal'}`;
  throw new GroveError(ErrorCode.RuntimeFailed, `${tool} transaction failed (${how}): ${first}`, { details: { tool, output: result.output } });
}
