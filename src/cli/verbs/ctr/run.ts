import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseBytes, parseCpus, parsePositiveInt } from '../../../core/quantity.js';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { RunRequest } from '../../../../agent/src/runtime/container-manager.js';
import type { CliContext } from '../../context.js';
import { writeLine } from '../../io.js';
import { pullProgressReporter } from '../../progress.js';
import { reportError } from '../../report.js';
import { collect, type Act } from '../../verb.js';
import { checkGroup } from '../../../core/device-spec.js';
import { parseSecurityOpt } from '../../../core/seccomp-ref.js';
import { parseDeviceFlag, parseVolumeFlag } from '../../../../agent/src/runtime/host-access.js';
import { parsePublishFlag } from '../../../../agent/src/runtime/container-network.js';
import { openRuntime } from './open.js';
import { streamLogs } from './stream-logs.js';

/** docker's convention: 125 when the run itself failed, else the container's own exit code. */
const RUN_FAILED = 125;

export function registerRun(ctr: Command, act: Act): void {
  ctr
    .command('run')
    .description('create and start a container; without -d, stream its output and exit with its code')
    .argument('<image>', 'image reference (pulled when missing)')
    .argument('[command...]', 'command and arguments, replacing the image Cmd')
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('--name <name>', 'container name')
    .option('-m, --memory <size>', 'memory limit, e.g. 32m, 1g')
    .option('--cpus <n>', 'CPU limit in cores, e.g. 0.5')
    .option('--pids <n>', 'maximum number of processes')
    .option('--cpu-shares <n>', 'relative CPU weight')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--entrypoint <cmd>', 'override the image entrypoint')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user to run as')
    .option('-l, --label <k=v>', 'set a label (repeatable)', collect, [])
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--network <mode>', 'none (default: own namespace with loopback only), bridge (CNI: an address on the node bridge, outbound NAT) or host')
    .option('-p, --publish <[ip:]host:ctr[/proto]>', 'publish a container port on the host (bridge network; repeatable)', collect, [])
    .option('-v, --volume <host:ctr[:ro]>', 'bind a host path into the container (repeatable)', collect, [])
    .option('--device <host[:ctr][:rwm]>', 'pass a host device through, without --privileged (repeatable)', collect, [])
    .option('--group-add <group>', 'add a supplementary group, e.g. dialout or 997 (repeatable)', collect, [])
    .option('--privileged', 'all capabilities and devices: only when nothing narrower works')
    .option('--security-opt <opt>', 'seccomp=unconfined, seccomp=PROFILE.json (OCI or docker format) or no-new-privileges (repeatable)', collect, [])
    .option('--pull <policy>', 'missing|never (default missing)', 'missing')
    .option('--rm', 'remove the container when it exits (foreground only)')
    .passThroughOptions()
    .action(
      act(async (ctx, [image, command], options) => {
        try {
          return await runContainer(ctx, image as string, command as string[], options);
        } catch (err) {
          reportError(err, ctx.io, ctx.debug);
          return RUN_FAILED;
        }
      }),
    );
}

export function runRequestFromFlags(image: string, command: string[], o: Record<string, unknown>): RunRequest {
  if (o.pull !== 'missing' && o.pull !== 'never') {
    throw new GroveError(ErrorCode.InvalidArgument, `--pull: "${String(o.pull)}" is not one of missing, never`);
  }
  const env = (o.env as string[]).map((pair) => {
    if (!/^[^=\s]+=/.test(pair)) throw new GroveError(ErrorCode.InvalidArgument, `--env: "${pair}" is not KEY=VALUE`);
    return pair;
  });
  const labels: Record<string, string> = {};
  for (const pair of o.label as string[]) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new GroveError(ErrorCode.InvalidArgument, `--label: "${pair}" is not key=value`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const limits: RunRequest['limits'] = {
    ...(o.memory !== undefined ? { memoryBytes: parseBytes(o.memory as string, '--memory') } : {}),
    ...(o.cpus !== undefined ? { cpus: parseCpus(o.cpus as string, '--cpus') } : {}),
    ...(o.pids !== undefined ? { pidsLimit: parsePositiveInt(o.pids as string, '--pids') } : {}),
    ...(o.cpuShares !== undefined ? { cpuShares: parsePositiveInt(o.cpuShares as string, '--cpu-shares') } : {}),
  };
  if (o.network !== undefined && o.network !== 'none' && o.network !== 'host' && o.network !== 'bridge') {
    throw new GroveError(ErrorCode.InvalidArgument, `--network: "${String(o.network)}" is not one of none, bridge, host`);
  }
  const publish = ((o.publish as string[] | undefined) ?? []).map(parsePublishFlag);
  if (publish.length > 0 && o.network !== 'bridge') throw new GroveError(ErrorCode.InvalidArgument, '--publish needs --network bridge');
  if (limits.memoryBytes !== undefined && limits.memoryBytes < 6 * 1024 * 1024) {
    throw new GroveError(ErrorCode.InvalidArgument, '--memory: the minimum is 6m');
  }
  return {
    image,
    ...(command.length ? { args: command } : {}),
    ...(o.name !== undefined ? { name: o.name as string } : {}),
    ...(o.entrypoint !== undefined ? { entrypoint: [o.entrypoint as string] } : {}),
    ...(o.workdir !== undefined ? { workingDir: o.workdir as string } : {}),
    ...(o.user !== undefined ? { user: o.user as string } : {}),
    ...(o.readOnly ? { readOnlyRootfs: true } : {}),
    ...(o.network === 'host' ? { hostNetwork: true } : {}),
    ...(o.network === 'bridge' ? { bridgeNetwork: { ports: publish } } : {}),
    ...hostAccessFromFlags(o),
    ...securityFromFlags((o.securityOpt as string[] | undefined) ?? []),
    env,
    labels,
    limits,
    pullMissing: o.pull === 'missing',
  };
}

function hostAccessFromFlags(o: Record<string, unknown>): Pick<RunRequest, 'mounts' | 'devices' | 'groupAdd' | 'privileged'> {
  const list = (key: string) => (o[key] as string[] | undefined) ?? [];
  const groupAdd = list('groupAdd').map((g) => checkGroup(g, '--group-add'));
  return {
    ...(list('volume').length ? { mounts: list('volume').map(parseVolumeFlag) } : {}),
    ...(list('device').length ? { devices: list('device').map(parseDeviceFlag) } : {}),
    ...(groupAdd.length ? { groupAdd } : {}),
    ...(o.privileged ? { privileged: true } : {}),
  };
}

/** docker --security-opt: a profile file is read when the container is created, relative paths from here. */
function securityFromFlags(opts: readonly string[]): Pick<RunRequest, 'seccompProfile'> {
  let out: Pick<RunRequest, 'seccompProfile'> = {};
  for (const value of opts) {
    const opt = parseSecurityOpt(value, '--security-opt');
    if (opt.kind !== 'seccomp') continue;
    if (out.seccompProfile) throw new GroveError(ErrorCode.InvalidArgument, '--security-opt: only one seccomp option is allowed');
    out = { seccompProfile: opt.unconfined ? { type: 'Unconfined' } : { type: 'File', path: resolve(opt.profile) } };
  }
  return out;
}

async function runContainer(ctx: CliContext, image: string, command: string[], o: Record<string, unknown>): Promise<number> {
  const request = runRequestFromFlags(image, command, o);
  if (o.rm && o.detach) throw new GroveError(ErrorCode.InvalidArgument, '--rm cannot be combined with -d');
  const { containers } = await openRuntime(ctx, o);
  const progress = pullProgressReporter({ ...ctx.io, stdout: ctx.io.stderr });
  const view = await containers.run({ ...request, onPullProgress: progress.onProgress }).finally(() => progress.finish());
  if (o.detach) {
    writeLine(ctx.io.stdout, view.id);
    return 0;
  }
  // Like `docker run` without -t: signals reach the container, output streams until it exits.
  const forward = (signal: NodeJS.Signals) => void containers.kill(view.id, signal.replace(/^SIG/, ''));
  process.on('SIGINT', forward).on('SIGTERM', forward);
  try {
    await streamLogs(ctx.io, containers.stateDir(view.id), { follow: true, until: () => containers.waitForExit(view.id) });
    const final = await containers.waitForExit(view.id);
    if (o.rm) await containers.remove(view.id, { force: true });
    return final.exitCode ?? RUN_FAILED;
  } finally {
    process.off('SIGINT', forward).off('SIGTERM', forward);
  }
}
