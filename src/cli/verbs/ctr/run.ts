import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { RunRequest } from '../../../../agent/src/runtime/container-manager.js';
import type { CliContext } from '../../context.js';
import { writeLine } from '../../io.js';
import { pullProgressReporter } from '../../progress.js';
import { reportError } from '../../report.js';
import { many, onOff, option, type Values } from '../../config/option.js';
import { bytes, count, cpus, keyValues, list, oneOf, text } from '../../config/units.js';
import { argList, argText, type Act } from '../../verb.js';
import { checkGroup } from '../../../core/device-spec.js';
import { parseSecurityOpt } from '../../../core/seccomp-ref.js';
import { parseDeviceFlag, parseVolumeFlag } from '../../../../agent/src/runtime/host-access.js';
import { parsePublishFlag } from '../../../../agent/src/runtime/container-network.js';
import { openRuntime } from './open.js';
import { streamLogs } from './stream-logs.js';

/** docker's convention: 125 when the run itself failed, else the container's own exit code. */
const RUN_FAILED = 125;

const MAX = Number.MAX_SAFE_INTEGER;

export const RUN_OPTIONS = {
  detach: onOff({ short: '-d', description: 'run in the background and print the container ID' }),
  name: option({ unit: text('name'), description: 'container name' }),
  memory: option({ unit: bytes, short: '-m', description: 'memory limit, e.g. 32m, 1g' }),
  cpus: option({ unit: cpus, description: 'CPU limit in cores, e.g. 0.5' }),
  pids: option({ unit: count(1, MAX), description: 'maximum number of processes' }),
  cpuShares: option({ unit: count(1, MAX), description: 'relative CPU weight' }),
  env: many({ unit: list('K=V'), short: '-e', description: 'set an environment variable (repeatable)' }),
  entrypoint: option({ unit: text('cmd'), description: 'override the image entrypoint' }),
  workdir: option({ unit: text('dir'), short: '-w', description: 'working directory inside the container' }),
  user: option({ unit: text('user[:group]'), short: '-u', description: 'user to run as' }),
  label: many({ unit: keyValues('k=v'), short: '-l', description: 'set a label (repeatable)' }),
  readOnly: onOff({ description: 'mount the root filesystem read-only' }),
  network: option({
    unit: oneOf(['none', 'bridge', 'host'] as const, 'mode'),
    description: 'none (default: own namespace with loopback only), bridge (CNI: an address on the node bridge, outbound NAT) or host',
  }),
  publish: many({ unit: list('[ip:]host:ctr[/proto]'), short: '-p', description: 'publish a container port on the host (bridge network; repeatable)' }),
  volume: many({ unit: list('host:ctr[:ro]'), short: '-v', description: 'bind a host path into the container (repeatable)' }),
  device: many({ unit: list('host[:ctr][:rwm]'), description: 'pass a host device through, without --privileged (repeatable)' }),
  groupAdd: many({ unit: list('group'), description: 'add a supplementary group, e.g. dialout or 997 (repeatable)' }),
  privileged: onOff({ description: 'all capabilities and devices: only when nothing narrower works' }),
  securityOpt: many({ unit: list('opt'), description: 'seccomp=unconfined, seccomp=PROFILE.json (OCI or docker format) or no-new-privileges (repeatable)' }),
  pull: option({ unit: oneOf(['missing', 'never'] as const, 'policy'), description: 'missing|never', default: 'missing' }),
  rm: onOff({ description: 'remove the container when it exits (foreground only)' }),
};

type RunFlags = Values<typeof RUN_OPTIONS>;

export function registerRun(ctr: Command, act: Act): void {
  act(
    ctr
      .command('run')
      .description('create and start a container; without -d, stream its output and exit with its code')
      .argument('<image>', 'image reference (pulled when missing)')
      .argument('[command...]', 'command and arguments, replacing the image Cmd')
      .passThroughOptions(),
    RUN_OPTIONS,
    async (ctx, [image, command], options) => {
      try {
        return await runContainer(ctx, argText(image, 'image'), argList(command), options);
      } catch (err) {
        reportError(err, ctx.io, ctx.debug);
        return RUN_FAILED;
      }
    },
  );
}

export function runRequestFromFlags(image: string, command: string[], o: RunFlags): RunRequest {
  const env = o.env.map((pair) => {
    if (!/^[^=\s]+=/.test(pair)) throw new GroveError(ErrorCode.InvalidArgument, `--env: "${pair}" is not KEY=VALUE`);
    return pair;
  });
  const limits: RunRequest['limits'] = {
    ...(o.memory !== undefined ? { memoryBytes: o.memory } : {}),
    ...(o.cpus !== undefined ? { cpus: o.cpus } : {}),
    ...(o.pids !== undefined ? { pidsLimit: o.pids } : {}),
    ...(o.cpuShares !== undefined ? { cpuShares: o.cpuShares } : {}),
  };
  const publish = o.publish.map(parsePublishFlag);
  if (publish.length > 0 && o.network !== 'bridge') throw new GroveError(ErrorCode.InvalidArgument, '--publish needs --network bridge');
  if (limits.memoryBytes !== undefined && limits.memoryBytes < 6 * 1024 * 1024) {
    throw new GroveError(ErrorCode.InvalidArgument, '--memory: the minimum is 6m');
  }
  return {
    image,
    ...(command.length ? { args: command } : {}),
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.entrypoint !== undefined ? { entrypoint: [o.entrypoint] } : {}),
    ...(o.workdir !== undefined ? { workingDir: o.workdir } : {}),
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.readOnly ? { readOnlyRootfs: true } : {}),
    ...(o.network === 'host' ? { hostNetwork: true } : {}),
    ...(o.network === 'bridge' ? { bridgeNetwork: { ports: publish } } : {}),
    ...hostAccessFromFlags(o),
    ...securityFromFlags(o.securityOpt),
    env,
    labels: { ...o.label },
    limits,
    pullMissing: o.pull === 'missing',
  };
}

function hostAccessFromFlags(o: RunFlags): Pick<RunRequest, 'mounts' | 'devices' | 'groupAdd' | 'privileged'> {
  const groupAdd = o.groupAdd.map((g) => checkGroup(g, '--group-add'));
  return {
    ...(o.volume.length ? { mounts: o.volume.map(parseVolumeFlag) } : {}),
    ...(o.device.length ? { devices: o.device.map(parseDeviceFlag) } : {}),
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

async function runContainer(ctx: CliContext, image: string, command: string[], o: RunFlags): Promise<number> {
  const request = runRequestFromFlags(image, command, o);
  if (o.rm && o.detach) throw new GroveError(ErrorCode.InvalidArgument, '--rm cannot be combined with -d');
  const { containers } = await openRuntime(ctx);
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
