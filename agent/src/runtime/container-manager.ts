import { initMount } from './container-init.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { ImageRecord, PullProgress } from '../images/types.js';
import { launchShim, shimIdArgument } from '../shim/launcher.js';
import { isProcessAlive, readExitStatus } from '../shim/exit-file.js';
import type { ExitStatus } from '../shim/protocol.js';
import { readBootTime } from './boot-time.js';
import { oomFile, readCgroupUsage, type CgroupUsage } from './cgroups.js';
import { containerHostname, resolveProcess, validateContainerName, type ContainerSpec } from './container-spec.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import type { HostFacts } from './host.js';
import { buildOciConfig, ociConfigJson, type OciSpec } from './oci-config.js';
import { checkMountSources, resolveDevices, type BindMount, type DeviceMapping } from './host-access.js';
import type { PortMapping } from './cni/cni-config.js';
import type { PodNetwork } from './cni/pod-network.js';
import { prepareBridgeNetwork } from './container-network.js';
import { ENV_EXEC_PATH, mountSecretEnv, unmountSecretEnv, type SecretEnvMount } from './secret-env.js';
import { systemTmpfs, type TmpfsMounter } from './tmpfs.js';
import type { ExecProcess, ExecStreamOptions, OciRuntime } from './oci-runtime.js';
import type { CommandResult } from './run-command.js';
import { loadSeccompProfile, type ContainerSeccomp } from './seccomp/profile-load.js';

export type ContainerState = 'created' | 'running' | 'exited';

/** A container record together with its live state, derived from the shim's files. */
export interface ContainerView extends ContainerRecord {
  state: ContainerState;
  exitCode: number | null;
  signal?: number;
  oomKilled: boolean;
  finishedAt?: string;
}

/** The image operations the runtime needs; ImageStore provides them. */
export interface ImageSource {
  get(reference: string): Promise<ImageRecord | undefined>;
  pull(reference: string, options?: { onProgress?: (event: PullProgress) => void }): Promise<ImageRecord>;
  snapshot(image: ImageRecord): Promise<string>;
}

export interface RootfsOps {
  mount(options: { lower: string; containerDir: string }): Promise<{ rootfs: string; kind: 'overlay' | 'copy' }>;
  unmount(containerDir: string): Promise<void>;
}

export interface ContainerManagerDeps {
  store: ContainerStore;
  images: ImageSource;
  rootfs: RootfsOps;
  runtime: OciRuntime;
  runtimeName: 'runc' | 'crun';
  host: HostFacts;
  shimPath: string;
  logger: Logger;
  logMaxBytes: number;
  logMaxFiles: number;
  now?: () => Date;
  /** CNI bridge networking; without it only none and host networks are available. */
  network?: PodNetwork;
  /** tmpfs for Secret variables (default: mount(8)); tests inject it. */
  tmpfs?: TmpfsMounter;
  /** When the host booted (default: /proc/stat); tests inject it. */
  bootTime?: () => Promise<Date | undefined>;
  /** Where Localhost seccomp profiles live (<data-dir>/seccomp); without it they are refused. */
  seccompDir?: string;
}

export interface RunRequest {
  image: string;
  name?: string;
  /** Replaces the image's Cmd when non-empty. */
  args?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  /** Replaces the user's group (see ContainerSpec.group). */
  group?: string;
  runAsNonRoot?: boolean;
  limits?: ContainerSpec['limits'];
  readOnlyRootfs?: boolean;
  hostNetwork?: boolean;
  /** Own network namespace on the node bridge (CNI), with these host ports published. */
  bridgeNetwork?: { ports: PortMapping[] };
  /** Join these namespaces (a pod sandbox's) instead of making fresh ones. */
  namespaces?: ContainerSpec['namespaces'];
  hostPID?: boolean;
  hostIPC?: boolean;
  sysctls?: Record<string, string>;
  hostname?: string;
  labels?: Record<string, string>;
  mounts?: BindMount[];
  devices?: DeviceMapping[];
  groupAdd?: string[];
  privileged?: boolean;
  /** Capabilities added to / dropped from the defaults (CAP_ names or ALL). */
  capAdd?: string[];
  capDrop?: string[];
  allowPrivilegeEscalation?: boolean;
  /** Absent: the default seccomp profile. Unconfined, a Localhost profile, or a file (ctr run). */
  seccompProfile?: ContainerSeccomp;
  /**
   * KEY=VALUE entries read from Secrets: in the process's environment, but never in config.json,
   * the runtime's state or the container record (all on flash). They sit in a tmpfs file that
   * `grove-shim env-exec` (bound into the container) loads before exec'ing the command.
   */
  secretEnv?: string[];
  /** rlimits, init, stop signal and log caps of this container (ContainerSpec's). */
  ulimits?: ContainerSpec['ulimits'];
  init?: boolean;
  stopSignal?: string;
  logMaxBytes?: number;
  logMaxFiles?: number;
  /** Pull the image when it is not stored locally (docker run's default). */
  pullMissing?: boolean;
  onPullProgress?: (event: PullProgress) => void;
}

const EXIT_POLL_MS = 100;

export class ContainerManager {
  private readonly log: Logger;
  private readonly now: () => Date;
  private boot: Promise<Date | undefined> | undefined;

  constructor(private readonly deps: ContainerManagerDeps) {
    this.log = deps.logger.child({ component: 'containers' });
    this.now = deps.now ?? (() => new Date());
  }

  /** Creates and starts a container; on any failure nothing of it is left behind. */
  async run(request: RunRequest): Promise<ContainerView> {
    const { store } = this.deps;
    await store.init();
    const image = await this.resolveImage(request);
    const id = randomBytes(32).toString('hex');
    const name = request.name ?? defaultName(image, id);
    validateContainerName(name);
    const spec: ContainerSpec = {
      id,
      name,
      image: image.names[0] ?? request.image,
      imageDigest: image.digest,
      ...(request.args?.length ? { args: request.args } : {}),
      ...(request.entrypoint ? { entrypoint: request.entrypoint } : {}),
      env: request.env ?? [],
      ...(request.workingDir ? { workingDir: request.workingDir } : {}),
      ...(request.user ? { user: request.user } : {}),
      ...(request.group ? { group: request.group } : {}),
      ...(request.runAsNonRoot ? { runAsNonRoot: true } : {}),
      limits: request.limits ?? {},
      ...(request.readOnlyRootfs ? { readOnlyRootfs: true } : {}),
      ...(request.hostNetwork ? { hostNetwork: true } : {}),
      labels: request.labels ?? {},
      ...(request.mounts?.length ? { mounts: request.mounts } : {}),
      ...(request.devices?.length ? { devices: request.devices } : {}),
      ...(request.groupAdd?.length ? { groupAdd: request.groupAdd } : {}),
      ...(request.privileged ? { privileged: true } : {}),
      ...(request.capAdd?.length ? { capAdd: [...request.capAdd] } : {}),
      ...(request.capDrop?.length ? { capDrop: [...request.capDrop] } : {}),
      ...(request.allowPrivilegeEscalation ? { allowPrivilegeEscalation: true } : {}),
      ...(request.seccompProfile ? { seccompProfile: { ...request.seccompProfile } } : {}),
      ...(request.bridgeNetwork ? { bridgeNetwork: { ports: request.bridgeNetwork.ports } } : {}),
      ...(request.namespaces ? { namespaces: { ...request.namespaces } } : {}),
      ...(request.hostPID ? { hostPID: true } : {}),
      ...(request.hostIPC ? { hostIPC: true } : {}),
      ...(request.sysctls && Object.keys(request.sysctls).length ? { sysctls: { ...request.sysctls } } : {}),
      ...(request.hostname ? { hostname: request.hostname } : {}),
      ...(request.ulimits?.length ? { ulimits: request.ulimits.map((u) => ({ ...u })) } : {}),
      ...(request.init ? { init: true } : {}),
      ...(request.stopSignal ? { stopSignal: request.stopSignal } : {}),
      ...(request.logMaxBytes !== undefined ? { logMaxBytes: request.logMaxBytes } : {}),
      ...(request.logMaxFiles !== undefined ? { logMaxFiles: request.logMaxFiles } : {}),
    };
    if (spec.namespaces?.network && (spec.hostNetwork || spec.bridgeNetwork)) throw new GroveError(ErrorCode.InvalidArgument, 'a container joining a network namespace cannot also ask for the host or bridge network');
    if (spec.hostIPC && spec.namespaces?.ipc) throw new GroveError(ErrorCode.InvalidArgument, "a container joining an IPC namespace cannot also ask for the host's");
    if (spec.hostNetwork && spec.bridgeNetwork) throw new GroveError(ErrorCode.InvalidArgument, 'a container cannot use both the host and the bridge network');
    // Fails early (bad command, missing device or mount source) before anything is created on disk.
    const resolved = resolveProcess(spec, image.config);
    const devices = resolveDevices(spec.devices ?? []);
    await checkMountSources(spec.mounts ?? []);
    const seccompProfile = await loadSeccompProfile(spec.seccompProfile, this.deps.seccompDir);
    const init = spec.init ? await initMount(this.deps.shimPath) : undefined;

    await store.claimName(name, id);
    const containerDir = store.containerDir(id);
    let mounted = false;
    let attached = false;
    let secretEnv: SecretEnvMount | undefined;
    try {
      await mkdir(store.stateDir(id), { recursive: true, mode: 0o700 });
      const lower = await this.deps.images.snapshot(image);
      const { rootfs, kind } = await this.deps.rootfs.mount({ lower, containerDir });
      mounted = true;
      const cgroupsPath = `/grove/${id}`;
      const net = spec.bridgeNetwork ? await prepareBridgeNetwork(this.deps.network, id, containerHostname(spec), spec.bridgeNetwork.ports, containerDir) : undefined;
      attached = net !== undefined;
      secretEnv = request.secretEnv?.length ? await mountSecretEnv(containerDir, request.secretEnv, this.deps.shimPath, this.deps.tmpfs ?? systemTmpfs) : undefined;
      const extraMounts = [...(net?.mounts ?? []), ...(secretEnv?.mounts ?? []), ...(init ? [init.mount] : [])];
      const config = buildOciConfig(extraMounts.length ? { ...spec, mounts: [...(spec.mounts ?? []), ...extraMounts] } : spec, image.config, this.deps.host, {
        rootfsPath: rootfs,
        cgroupsPath,
        ...(spec.hostNetwork ? { hostNetwork: true } : {}),
        devices,
        ...(net ? { networkNamespacePath: net.attachment.netns } : {}),
        ...(this.deps.host.capBounding !== undefined ? { capBounding: this.deps.host.capBounding } : {}),
        ...(seccompProfile ? { seccompProfile } : {}),
      });
      if (secretEnv) config.process.args = [...secretEnv.argsPrefix, ...config.process.args];
      if (init) config.process.args = [...init.argsPrefix, ...config.process.args];
      await writeFileAtomic(join(containerDir, 'config.json'), ociConfigJson(config));
      const record: ContainerRecord = {
        id,
        name,
        image: spec.image,
        imageDigest: image.digest,
        spec,
        command: resolved.args,
        runtime: this.deps.runtimeName,
        cgroupsPath,
        rootfsKind: kind,
        createdAt: this.now().toISOString(),
        ...(net ? { network: { ip: net.attachment.ip, netns: net.attachment.netns } } : {}),
      };
      await store.write(record);
      const oom = oomFile(this.deps.host, cgroupsPath);
      const started = await launchShim({
        shimPath: this.deps.shimPath,
        id,
        bundleDir: containerDir,
        stateDir: store.stateDir(id),
        runtimePath: this.deps.runtime.path,
        runtimeRoot: this.deps.runtime.root,
        logMaxBytes: spec.logMaxBytes ?? this.deps.logMaxBytes,
        logMaxFiles: spec.logMaxFiles ?? this.deps.logMaxFiles,
        ...(oom ? { oomFile: oom } : {}),
      });
      const running: ContainerRecord = { ...record, pid: started.pid, shimPid: started.shimPid, startedAt: started.startedAt };
      await store.write(running);
      this.log.info({ id: id.slice(0, 12), name, image: spec.image, pid: started.pid }, 'container started');
      return this.view(running);
    } catch (err) {
      this.log.debug({ id: id.slice(0, 12), err: errorMessage(err) }, 'container start failed, cleaning up');
      await this.deps.runtime.delete(id, { force: true }).catch(() => undefined);
      if (attached) await this.deps.network?.detach(id).catch(() => undefined);
      if (mounted) await this.deps.rootfs.unmount(containerDir).catch(() => undefined);
      if (secretEnv) await secretEnv.unmount().catch(() => undefined);
      await store.removeDir(id);
      await store.releaseName(name, id);
      throw err;
    }
  }

  private async resolveImage(request: RunRequest): Promise<ImageRecord> {
    const local = await this.deps.images.get(request.image);
    if (local) return local;
    if (request.pullMissing === false) {
      throw new GroveError(ErrorCode.ImageNotFound, `image "${request.image}" is not stored locally (pull it first)`);
    }
    return this.deps.images.pull(request.image, request.onPullProgress ? { onProgress: request.onPullProgress } : {});
  }

  async find(nameOrId: string): Promise<ContainerView> {
    return this.view(await this.deps.store.find(nameOrId));
  }

  async list(options: { all?: boolean } = {}): Promise<ContainerView[]> {
    const views = await Promise.all((await this.deps.store.list()).map((r) => this.view(r)));
    return options.all ? views : views.filter((v) => v.state === 'running');
  }

  /** Derives the live state: exit file → exited; live shim → running; else created/lost. */
  async view(record: ContainerRecord): Promise<ContainerView> {
    const exit = await readExitStatus(this.deps.store.stateDir(record.id)).catch(() => undefined);
    if (exit) return exitedView(record, exit);
    if (record.shimPid === undefined) return { ...record, state: 'created', exitCode: null, oomKilled: false };
    // The shim's own id argument, not just its name: after a host reboot the recorded pid may
    // belong to the shim of another container started since (boots hand out similar pids).
    if (await isProcessAlive(record.shimPid, shimIdArgument(record.id))) {
      return { ...record, state: 'running', exitCode: null, oomKilled: false };
    }
    // The shim is gone without an exit file: the host rebooted or someone killed it. Started
    // before this boot means the former, and it ended no later than the boot: saying so lets a
    // restart back-off count from then (an agent that comes up after it restarts at once).
    const boot = await this.bootTime();
    const lostInReboot = boot !== undefined && record.startedAt !== undefined && Date.parse(record.startedAt) < boot.getTime();
    return { ...record, state: 'exited', exitCode: null, oomKilled: false, ...(lostInReboot ? { finishedAt: boot.toISOString() } : {}) };
  }

  private bootTime(): Promise<Date | undefined> {
    this.boot ??= (this.deps.bootTime ?? readBootTime)();
    return this.boot;
  }

  /** Waits until the container has exited; resolves with its final view. */
  async waitForExit(nameOrId: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ContainerView> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const view = await this.find(nameOrId);
      if (view.state !== 'running') return view;
      if (options.signal?.aborted || Date.now() >= deadline) return view;
      await sleep(EXIT_POLL_MS);
    }
  }

  async kill(nameOrId: string, signal: string): Promise<void> {
    const view = await this.find(nameOrId);
    if (view.state !== 'running') return;
    await this.deps.runtime.kill(view.id, signal).catch((err: unknown) => {
      // It may have exited between our look and the kill; only a live container is an error.
      this.log.debug({ id: view.id.slice(0, 12), err: errorMessage(err) }, 'kill failed');
    });
  }

  /** docker stop: SIGTERM (or the container's stop signal), then SIGKILL after the grace period. */
  async stop(nameOrId: string, graceSeconds = 10): Promise<ContainerView> {
    const view = await this.find(nameOrId);
    if (view.state !== 'running') return view;
    await this.kill(view.id, view.spec.stopSignal ?? 'TERM');
    let after = await this.waitForExit(view.id, { timeoutMs: graceSeconds * 1000 });
    if (after.state === 'running') {
      await this.kill(view.id, 'KILL');
      after = await this.waitForExit(view.id, { timeoutMs: 10_000 });
    }
    if (after.state === 'running') {
      throw new GroveError(ErrorCode.RuntimeFailed, `container ${after.name} did not stop after SIGKILL`);
    }
    this.log.info({ id: view.id.slice(0, 12), name: view.name, exitCode: after.exitCode }, 'container stopped');
    return after;
  }

  /** docker rm: refuses a running container unless forced; removes rootfs, bundle and logs. */
  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<ContainerView> {
    const view = await this.find(nameOrId);
    if (view.state === 'running') {
      if (!options.force) {
        throw new GroveError(ErrorCode.ContainerRunning, `container ${view.name} is running: stop it first or use rm -f`);
      }
      await this.stop(view.id, 0);
    }
    await this.deps.runtime.delete(view.id, { force: true }).catch((err: unknown) => {
      if (!isGroveError(err)) throw err;
    });
    if (view.network) await this.deps.network?.detach(view.id);
    await this.deps.rootfs.unmount(this.deps.store.containerDir(view.id));
    await unmountSecretEnv(this.deps.store.containerDir(view.id), this.deps.tmpfs ?? systemTmpfs);
    await this.deps.store.removeDir(view.id);
    await this.deps.store.releaseName(view.name, view.id);
    this.log.info({ id: view.id.slice(0, 12), name: view.name }, 'container removed');
    return view;
  }

  /** Runs argv in a running container (probes); ContainerNotRunning when it is not running. */
  async exec(nameOrId: string, argv: readonly string[], options: { timeoutMs: number }): Promise<CommandResult> {
    const view = await this.find(nameOrId);
    if (view.state !== 'running') throw new GroveError(ErrorCode.ContainerNotRunning, `container ${view.name} is not running`);
    return this.deps.runtime.execIn(view.id, argv, options);
  }

  /**
   * Starts argv in a running container with its stdio streaming (`kubectl exec`); a container
   * started with variables from Secrets runs it through the same env-exec helper, so the
   * process sees the environment the container's own process sees.
   */
  async execStream(nameOrId: string, argv: readonly string[], options: Omit<ExecStreamOptions, 'ptyHelper'>): Promise<ExecProcess> {
    const view = await this.find(nameOrId);
    if (view.state !== 'running') throw new GroveError(ErrorCode.ContainerNotRunning, `container ${view.name} is not running`);
    const config = JSON.parse(await readFile(join(this.deps.store.containerDir(view.id), 'config.json'), 'utf8').catch(() => '{}')) as Partial<Pick<OciSpec, 'process'>>;
    const args = config.process?.args ?? [];
    const prefix = args[0] === ENV_EXEC_PATH ? args.slice(0, 3) : [];
    // The container's process goes along: a terminal session starts from it at the client's size.
    return this.deps.runtime.execStream(view.id, [...prefix, ...argv], { ...options, ptyHelper: this.deps.shimPath, ...(config.process ? { process: config.process } : {}) });
  }

  stateDir(id: string): string {
    return this.deps.store.stateDir(id);
  }

  /** CPU and memory working set from a running container's cgroup (metrics); undefined when it is gone. */
  usage(view: ContainerView): Promise<CgroupUsage | undefined> {
    return readCgroupUsage(this.deps.host, view.cgroupsPath);
  }
}

function exitedView(record: ContainerRecord, exit: ExitStatus): ContainerView {
  return {
    ...record,
    state: 'exited',
    exitCode: exit.exitCode,
    ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
    oomKilled: exit.oomKilled,
    finishedAt: exit.finishedAt,
  };
}

function defaultName(image: ImageRecord, id: string): string {
  const repo = (image.names[0] ?? 'container').replace(/[:@].*$/, '').split('/').pop() ?? 'container';
  return `${repo.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${id.slice(0, 6)}`;
}
