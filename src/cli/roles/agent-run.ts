import { hostname } from 'node:os';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { joinCluster, loadJoinConfig } from '../../../agent/src/agent/join-client.js';
import type { CliContext } from '../context.js';
import { heartbeatOverride, lockMaxOption, restartBackoffOption, startNodeAgent } from './node-agent.js';
import { labelsFromFlags } from './server-setup.js';
import { untilSignal } from './signals.js';

export async function runAgent(ctx: CliContext, o: Record<string, unknown>): Promise<number> {
  // Checked before joining: a typo in a flag must not cost a join token.
  const backoff = restartBackoffOption(o.restartBackoff as string | undefined, ctx.io.env);
  const lockMax = lockMaxOption(o.updateLockMax as string | undefined, ctx.io.env);
  const labels = labelsFromFlags(o.label as string[]);
  const nodeName = (o.nodeName as string | undefined) ?? hostname().toLowerCase();
  let joined = await loadJoinConfig(ctx.dataDir);
  // A token means "join (again)"; without one the agent needs only its stored credentials and
  // MQTT, so it starts even when the server is unreachable.
  if (o.token !== undefined || !joined) {
    if (o.server === undefined || o.token === undefined) {
      throw new GroveError(ErrorCode.InvalidArgument, 'this node has not joined a cluster yet: pass --server URL and --token TOKEN');
    }
    joined = await joinCluster({ serverUrl: o.server as string, token: o.token as string, nodeName, labels, dataDir: ctx.dataDir, logger: ctx.logger });
    ctx.io.stderr.write(`joined cluster ${joined.cluster} as node ${joined.node}\n`);
  }
  const running = await startNodeAgent({
    dataDir: ctx.dataDir,
    join: joined,
    labels,
    logger: ctx.logger,
    env: ctx.io.env,
    ...(o.runtime ? { runtime: o.runtime as 'auto' | 'crun' | 'runc' } : {}),
    ...heartbeatOverride(ctx.io.env),
    ...backoff,
    ...lockMax,
  });
  ctx.io.stderr.write(`grove agent running: node ${joined.node}, cluster ${joined.cluster}\n`);
  try {
    await untilSignal();
  } finally {
    await running.stop();
  }
  return 0;
}
