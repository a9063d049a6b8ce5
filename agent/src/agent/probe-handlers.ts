/**
 * One probe check through the NodeRuntime port: exec runs the command in the container (success
 * = exit 0); httpGet, tcpSocket and grpc are checked from the container's network (probe-net.ts).
 */
import type { Probe } from '../../../src/core/wire-types.js';
import type { NetworkProbeOptions, NodeRuntime, ProbeOutcome } from './node-runtime.js';

/** Enough of a failing command's output to say why, without flooding logs or the status. */
const MAX_OUTPUT = 512;

export async function runProbe(runtime: NodeRuntime, id: string, probe: Probe, options: NetworkProbeOptions): Promise<ProbeOutcome> {
  if ('exec' in probe) {
    const r = await runtime.exec(id, probe.exec.command, { timeoutMs: options.timeoutMs });
    if (r.exitCode === 0) return { ok: true, message: 'exit 0' };
    const output = r.output.trim().slice(0, MAX_OUTPUT);
    const why = r.timedOut ? `command timed out after ${options.timeoutMs} ms` : `command exited with ${r.exitCode ?? 'a signal'}`;
    return { ok: false, message: output ? `${why}: ${output}` : why };
  }
  const check = 'httpGet' in probe ? { httpGet: probe.httpGet } : 'grpc' in probe ? { grpc: probe.grpc } : { tcpSocket: probe.tcpSocket };
  return runtime.probeNetwork(id, check, options);
}
