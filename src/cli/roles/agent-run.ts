import { hostname } from 'node:os';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { joinCluster, loadJoinConfig, rejoinCredential } from '../../../agent/src/agent/join-client.js';
import { chooseJoinToken } from './join-token-source.js';
import type { CliContext } from '../context.js';
import { tuneDaemonHeap } from './daemon-heap.js';
import { survivingStreamErrors } from '../../core/log-destination.js';
import { heartbeatOverride, lockMaxOption, restartBackoffOption, startNodeAgent } from './node-agent.js';
import { labelsFromFlags } from './server-setup.js';
import { armTestLoopStall, serviceNotify } from './service-notify.js';
import { untilSignal } from './signals.js';
import { hostPathRootsOption } from './host-path-roots.js';

export async function runAgent(ctx: CliContext, o: Record<string, unknown>): Promise<number> {
  tuneDaemonHeap(ctx.io.env);
  // A full disk under its log file must not stop a daemon (logger: see core/log-destination.ts).
  for (const stream of [ctx.io.stdout, ctx.io.stderr]) survivingStreamErrors(stream);
  // Checked before joining: a typo in a flag must not cost a join token.
  const backoff = restartBackoffOption(o.restartBackoff as string | undefined, ctx.io.env);
  const env = ctx.io.env;
  const lockMax = lockMaxOption(o.updateLockMax as string | undefined, env);
  const roots = hostPathRootsOption(o.hostPathRoot);
  const labels = labelsFromFlags((o.label as string[]).length > 0 ? (o.label as string[]) : envList(env.GROVE_LABELS));
  const nodeName = (o.nodeName as string | undefined) ?? (env.GROVE_NODE_NAME || hostname().toLowerCase());
  let joined = await loadJoinConfig(ctx.dataDir);
  // A --token flag means "join (again)"; without one the agent needs only its stored credentials
  // and MQTT, so it starts even when the server is unreachable. --token-file, GROVE_TOKEN_FILE
  // and GROVE_TOKEN (the installer's) serve the first join only: restarts must not spend the
  // token, and after the join the installer's token file is gone.
  if (o.token !== undefined || !joined) {
    const server = (o.server as string | undefined) ?? (env.GROVE_SERVER_URL || undefined);
    const chosen = await chooseJoinToken({ ...(o.token !== undefined ? { token: o.token as string } : {}), ...(o.tokenFile !== undefined ? { tokenFile: o.tokenFile as string } : {}) }, env, ctx.logger);
    if (server === undefined || chosen === undefined) {
      throw new GroveError(ErrorCode.InvalidArgument, 'this node has not joined a cluster yet: pass --server URL and --token-file FILE (or GROVE_SERVER_URL and GROVE_TOKEN)');
    }
    // Joining again under the same name proves it with the credential of the saved join.
    const credential = rejoinCredential(joined, nodeName, server, chosen.token);
    joined = await joinCluster({ serverUrl: server, token: chosen.token, nodeName, labels, dataDir: ctx.dataDir, logger: ctx.logger, ...(credential ? { credential } : {}) });
    ctx.io.stderr.write(`joined cluster ${joined.cluster} as node ${joined.node}\n`);
  }
  // Nothing the agent starts (shims, runtimes, CNI plugins) needs the token.
  delete env.GROVE_TOKEN;
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
    ...roots,
  });
  ctx.io.stderr.write(`grove agent running: node ${joined.node}, cluster ${joined.cluster}\n`);
  const systemd = serviceNotify(ctx.io.env, ctx.logger, () => running.agent.healthy());
  systemd.ready(`node ${joined.node}, cluster ${joined.cluster}`);
  armTestLoopStall(ctx.io.env, ctx.logger);
  try {
    await untilSignal();
  } finally {
    systemd.stopping();
    await running.stop();
  }
  return 0;
}

/** "a=1, b=2" → ["a=1", "b=2"] (GROVE_LABELS). */
function envList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}
