import { ErrorCode, GroveError } from '../../core/errors.js';
import { joinCluster, loadJoinConfig, rejoinCredential } from '../../../agent/src/agent/join-client.js';
import type { Values } from '../config/option.js';
import { originText } from '../config/resolve.js';
import { AGENT_OPTIONS } from '../config/role-options.js';
import { renderConfig } from '../config/print-config.js';
import { chooseJoinToken } from './join-token-source.js';
import type { CliContext } from '../context.js';
import { writeLine } from '../io.js';
import { tuneDaemonHeap } from './daemon-heap.js';
import { survivingStreamErrors } from '../../core/log-destination.js';
import { startNodeAgent } from './node-agent.js';
import { serviceNotify } from './service-notify.js';
import { untilSignal } from './signals.js';
import { hostPathRootsOption } from './host-path-roots.js';

export async function runAgent(ctx: CliContext, o: Values<typeof AGENT_OPTIONS>): Promise<number> {
  if (o.printConfig) {
    writeLine(ctx.io.stdout, renderConfig(ctx.config));
    return 0;
  }
  tuneDaemonHeap(o.v8Tuning);
  // A full disk under its log file must not stop a daemon (logger: see core/log-destination.ts).
  for (const stream of [ctx.io.stdout, ctx.io.stderr]) survivingStreamErrors(stream);
  // Checked before joining: a typo in a flag must not cost a join token.
  hostPathRootsOption(o.hostPathRoot);
  const tokenOrigin = ctx.config.origin(AGENT_OPTIONS, 'token');
  let joined = await loadJoinConfig(ctx.dataDir);
  // A --token flag means "join (again)"; without one the agent needs only its stored credentials
  // and MQTT, so it starts even when the server is unreachable. --token-file, GROVE_TOKEN_FILE
  // and GROVE_TOKEN (the installer's) serve the first join only: restarts must not spend the
  // token, and after the join the installer's token file is gone.
  const tokenFlag = tokenOrigin?.from === 'flag';
  if (tokenFlag || !joined) {
    const token = o.token !== undefined && tokenOrigin ? { value: o.token, source: originText(tokenOrigin), flag: tokenFlag } : undefined;
    const chosen = await chooseJoinToken({ token, tokenFile: o.tokenFile }, ctx.logger);
    if (o.server === undefined || chosen === undefined) {
      throw new GroveError(ErrorCode.InvalidArgument, 'this node has not joined a cluster yet: pass --server URL and --token-file FILE (or GROVE_SERVER_URL and GROVE_TOKEN)');
    }
    // Joining again under the same name proves it with the credential of the saved join.
    const credential = rejoinCredential(joined, o.nodeName, o.server, chosen.token);
    joined = await joinCluster({ serverUrl: o.server, token: chosen.token, nodeName: o.nodeName, labels: { ...o.label }, dataDir: ctx.dataDir, logger: ctx.logger, ...(credential ? { credential } : {}) });
    ctx.io.stderr.write(`joined cluster ${joined.cluster} as node ${joined.node}\n`);
  }
  // Nothing the agent starts (shims, runtimes, CNI plugins) needs the token.
  if (AGENT_OPTIONS.token.env) ctx.forgetVariable(AGENT_OPTIONS.token.env);
  const running = await startNodeAgent({ dataDir: ctx.dataDir, join: joined, logger: ctx.logger, settings: o, searchPath: ctx.host.searchPath });
  ctx.io.stderr.write(`grove agent running: node ${joined.node}, cluster ${joined.cluster}\n`);
  const systemd = serviceNotify(ctx.host.notify, o.shim, ctx.logger, () => running.agent.healthy());
  systemd.ready(`node ${joined.node}, cluster ${joined.cluster}`);
  try {
    await untilSignal();
  } finally {
    systemd.stopping();
    await running.stop();
  }
  return 0;
}
