/**
 * NodeRuntime over the real ContainerManager (runc/crun + grove-shim + image store): the same
 * stack `grove ctr` drives, so an agent-created container shows up in `grove ctr ps` too.
 *
 * imagePullPolicy (docs/agent.md): IfNotPresent (default) pulls a missing image; Never only
 * uses the stored one; Always pulls before every start but, unlike Kubernetes, falls back to the
 * stored image when the pull fails, so an edge node that is offline still restarts its pods.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { ConfigRef } from '../../../src/core/config-refs.js';
import type { NodeVolume } from '../../../src/core/wire-types.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { Container } from '../../../src/core/objects/pod-container.js';
import type { ContainerManager, ContainerView } from '../runtime/container-manager.js';
import { runCommand } from '../runtime/run-command.js';
import { followLog, readLogLines } from '../shim/log-reader.js';
import { checkNetwork } from './probe-net.js';
import {
  podContainerKeyOf,
  runtimeContainerName,
  isManaged,
  joinPartials,
  Labels,
  managedLabels,
  podKeyOf,
  restartsFromLabels,
  stopGraceLabels,
  type ContainerUsageSample,
  type ExecOptions,
  type ExecProcess,
  type ExecStreamRequest,
  type ExecResult,
  type LogOptions,
  type ManagedContainer,
  type NetworkCheck,
  type NetworkProbeOptions,
  type ProbeOutcome,
  type NodeRuntime,
  type RuntimeLogLine,
  type StartOptions,
} from './node-runtime.js';
import { LOCK_DIR_ENV, LOCK_MOUNT_PATH } from './update-locks.js';
import type { ConfigSource } from './config-source.js';
import type { BindMount } from '../runtime/host-access.js';
import { resolveEnvBySource } from './volumes/config-env.js';
import type { NodeCapacity } from './volumes/downward.js';
import { containerRunSpec } from './container-run-spec.js';
import { postStartOf, preStopLabels, preStopOf, runPostStart, runPreStop } from './lifecycle-hooks.js';
import { envFromOf, envOf, graceSecondsOf, onHostNetwork, podApp, podKey } from './plan/pod-fields.js';
import type { PodVolumes } from './volumes/pod-volumes.js';
import { listNamedVolumes, removeNamedVolume, type MountingContainer } from './volumes/named-volumes.js';
import type { PodSandboxes } from '../runtime/pod-sandbox.js';
import type { PreviousLogs } from './previous-logs.js';
import { DEFAULT_TERMINATION_MESSAGE_PATH, messagePolicyLabels, messagePolicyOf, readMessageFile, terminationMessage } from './termination-message.js';

/** What imagePullPolicy Always needs of the image store (ImageStore fits). */
export interface ImagePuller {
  pull(reference: string): Promise<unknown>;
}

export interface ContainerManagerRuntimeOptions {
  containers: ContainerManager;
  logger: Logger;
  /** Pulls for imagePullPolicy Always; without it Always degrades to IfNotPresent (with a warning). */
  images?: ImagePuller;
  /**
   * Network probes of containers in their own network namespace run this script (compiled
   * probe-net-main.js) under `nsenter --net`; default: the one beside this module. Tests that
   * run the TypeScript sources point it at the built copy.
   */
  probeScript?: string;
  /** The Node binary for that script (default: the agent's own). */
  nodePath?: string;
  /** nsenter from util-linux (default: found on PATH). */
  nsenterPath?: string;
  /**
   * Update-lock directories (update-locks.ts): each app's is bound into its containers at
   * /grove/lock with GROVE_LOCK_DIR set. Without it containers get no lock directory.
   */
  lockDirs?: { ensureDir(app: string): Promise<string | undefined> };
  /** ConfigMaps and Secrets for volumes, env valueFrom and envFrom; without it they are missing. */
  config?: ConfigSource;
  /** Pod volumes (agent/src/agent/volumes); without them a pod that mounts a volume fails to start. */
  volumes?: PodVolumes;
  /** Pod sandboxes (shared network, IPC and UTS namespaces, /etc/hosts); without them each container has its own. */
  sandboxes?: PodSandboxes;
  /** Where each pod container's previous log is kept across a restart (`logs --previous`); without it none is. */
  previousLogs?: PreviousLogs;
  /** The node's address and capacity, for the downward API (status.hostIP, limits a container does not set). */
  node?: NodeCapacity;
}

export class ContainerManagerRuntime implements NodeRuntime {
  private readonly containers: ContainerManager;
  private readonly images: ImagePuller | undefined;
  private readonly log: Logger;
  private warnedNoPuller = false;
  private readonly probeScript: string;
  private readonly nodePath: string;
  private readonly nsenterPath: string;
  private readonly lockDirs: ContainerManagerRuntimeOptions['lockDirs'];
  private readonly config: ConfigSource | undefined;
  /** Public for the volume RPC and the reconciler's clean-up (syncPods). */
  readonly volumes: PodVolumes | undefined;
  readonly sandboxes: PodSandboxes | undefined;
  private readonly previous: PreviousLogs | undefined;
  private readonly node: NodeCapacity;
  /** Termination messages of exited containers, by id: read once (an ended container's file no longer changes). */
  private readonly messages = new Map<string, string | undefined>();

  constructor(options: ContainerManagerRuntimeOptions) {
    this.containers = options.containers;
    this.probeScript = options.probeScript ?? fileURLToPath(new URL('./probe-net-main.js', import.meta.url));
    this.nodePath = options.nodePath ?? process.execPath;
    this.nsenterPath = options.nsenterPath ?? 'nsenter';
    this.images = options.images;
    this.lockDirs = options.lockDirs;
    this.config = options.config;
    this.volumes = options.volumes;
    this.sandboxes = options.sandboxes;
    this.previous = options.previousLogs;
    this.node = options.node ?? { cpus: 0, memoryBytes: 0 };
    this.log = options.logger.child({ component: 'agent-runtime' });
  }

  async list(): Promise<ManagedContainer[]> {
    const views = await this.containers.list({ all: true });
    const out: ManagedContainer[] = [];
    for (const v of views) {
      const m = toManaged(v);
      if (m) out.push(m);
    }
    for (const id of this.messages.keys()) if (!out.some((c) => c.id === id)) this.messages.delete(id);
    for (const c of out) {
      if (c.state !== 'exited') continue;
      if (!this.messages.has(c.id)) this.messages.set(c.id, await this.readTerminationMessage(c));
      const message = this.messages.get(c.id);
      if (message !== undefined) c.terminationMessage = message;
    }
    return out;
  }

  /** The file each of a pod's containers writes its termination message to (one per pod container, emptied at each start). */
  private messageFile(pod: string, container: string): string | undefined {
    return this.volumes ? join(this.volumes.podDir(pod), 'termination', container) : undefined;
  }

  private async readTerminationMessage(c: ManagedContainer): Promise<string | undefined> {
    const file = this.messageFile(podKeyOf(c), c.labels[Labels.container]);
    if (!file) return undefined;
    const policy = messagePolicyOf(c.labels);
    const text = await readMessageFile(file);
    const wantsLog = text.length === 0 && policy === 'FallbackToLogsOnError' && c.exitCode !== 0;
    const logLines = wantsLog ? (await readLogLines(this.containers.stateDir(c.id), { tail: 80 }).catch(() => [])).map((l) => l.text) : undefined;
    return terminationMessage({ file: text, policy, exitCode: c.exitCode, ...(logLines ? { logLines } : {}) });
  }

  /** An empty message file bound at the container's terminationMessagePath (none without a pod directory). */
  private async messageMount(pod: WirePodTarget, container: Container): Promise<BindMount[]> {
    const file = this.messageFile(podKey(pod), container.name);
    if (!file) return [];
    await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
    await writeFile(file, '');
    // Any user the container runs as may write it, as the kubelet's file.
    await chmod(file, 0o666);
    return [{ source: file, destination: container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH }];
  }

  async start(pod: WirePodTarget, container: Container, options: StartOptions = {}): Promise<ManagedContainer> {
    // The reconciler starts a pod's containers only once its sandbox is ready (the plan's sandbox steps).
    const sandbox = await this.sandboxes?.joinSpec(podKey(pod));
    // Before anything is created: a missing ConfigMap, Secret or key fails the start here.
    const downward = { context: { pod, node: this.node, ...(sandbox?.ip ? { podIP: sandbox.ip } : {}) }, container: container.name };
    const env = resolveEnvBySource(envOf(container), envFromOf(container), this.config, pod.namespace, downward);
    const spec = containerRunSpec(pod, container, env.vars);
    // The run spec is in the runtime's terms already: all of it but the pull policy goes through as it is.
    const { pullPolicy: policy, ...runSpec } = spec;
    const { image } = spec;
    const pulled = policy === 'Always' ? await this.pullAlways(pod, container) : 'skipped';
    const lockDir = await this.lockDirs?.ensureDir(podApp(pod));
    const volumeMounts = await this.volumeMounts(pod, container);
    const messageMounts = await this.messageMount(pod, container);
    const mounts = [...(sandbox?.mounts ?? []), ...(lockDir ? [{ source: lockDir, destination: LOCK_MOUNT_PATH, noExec: true }] : []), ...volumeMounts, ...messageMounts];
    let view: ContainerView;
    try {
      view = await this.containers.run({
        ...runSpec,
        name: runtimeContainerName(pod, container.name),
        env: [...env.plain, ...(lockDir ? [`${LOCK_DIR_ENV}=${LOCK_MOUNT_PATH}`] : [])],
        ...(env.secret.length ? { secretEnv: env.secret } : {}),
        ...(sandbox ? { namespaces: joinedNamespaces(sandbox.namespaces, spec.hostIPC === true), hostname: sandbox.hostname } : {}),
        ...(mounts.length ? { mounts } : {}),
        labels: { ...managedLabels(pod, container, options.restarts ?? 0), ...stopGraceLabels(pod), ...preStopLabels(container), ...messagePolicyLabels(container) },
        // Always has pulled already (or failed to: then only the stored copy may be used).
        pullMissing: policy === 'IfNotPresent' || (policy === 'Always' && pulled === 'skipped'),
      });
    } catch (err) {
      // With pullMissing false, ImageNotFound means "not stored locally".
      if (!isGroveError(err, ErrorCode.ImageNotFound)) throw err;
      if (policy === 'Never') {
        throw new GroveError(ErrorCode.ImageNotFound, `image "${image}" not present and imagePullPolicy is Never`, { cause: err, details: { image } });
      }
      // Nothing stored to fall back on: the registry's reason is the one worth reporting.
      if (typeof pulled === 'object') throw pulled.error;
      throw err;
    }
    if (typeof pulled === 'object') {
      this.log.warn(
        { pod: pod.name, container: container.name, image, err: errorMessage(pulled.error) },
        'imagePullPolicy Always: pull failed, started the locally stored image',
      );
    }
    const managed = toManaged(view);
    if (!managed) throw new Error(`container ${view.name} lost its grove labels`); // cannot happen: we set them
    return this.postStart(pod, container, managed);
  }

  /**
   * Runs the container's postStart hook right after its start, as the kubelet does: start()
   * (and so the container's Running status) waits for it; a hook that fails or runs out of time
   * (the pod's grace: lifecycle-hooks.ts) kills the container, whose exit the planner then treats
   * by the restart policy like any other.
   */
  private async postStart(pod: WirePodTarget, container: Container, managed: ManagedContainer): Promise<ManagedContainer> {
    const hook = postStartOf(container);
    if (!hook) return managed;
    const grace = graceSecondsOf(pod) ?? DEFAULT_GRACE_SECONDS;
    const hostNetwork = onHostNetwork(pod);
    const outcome = await runPostStart(hook, grace, {
      exec: (argv, timeoutMs) => this.exec(managed.id, argv, { timeoutMs }),
      httpGet: (check, timeoutMs) => this.probeNetwork(managed.id, check, { timeoutMs, hostNetwork }),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
    });
    const at = { pod: podKey(pod), container: container.name, id: managed.id.slice(0, 12) };
    if (outcome.ok) {
      this.log.info({ ...at, result: outcome.message }, 'postStart hook ran');
      return managed;
    }
    this.log.warn({ ...at, err: outcome.message }, 'postStart hook failed: killing the container');
    await this.stop(managed.id, grace);
    const after = await this.containers.find(managed.id).catch(() => undefined);
    return (after && toManaged(after)) ?? managed;
  }

  private async volumeMounts(pod: WirePodTarget, container: Container): Promise<BindMount[]> {
    if (!container.volumeMounts?.length) return [];
    if (!this.volumes) throw new GroveError(ErrorCode.InvalidArgument, `container ${container.name} mounts volumes, and this agent has no volume directory`);
    return this.volumes.mountsFor(pod, container);
  }

  /** Removes the volume directories of pods with neither a target nor a container left. */
  async syncPods(target: readonly WirePodTarget[], current: readonly ManagedContainer[]): Promise<void> {
    const keep = new Set([...target.map(podKey), ...current.map(podKeyOf)]);
    await this.previous?.sync(keep);
    await this.volumes?.sync(keep, target);
  }

  async refreshDownward(target: readonly WirePodTarget[]): Promise<void> {
    await this.volumes?.refreshDownward(target);
  }

  /** Rewrites the projected files of changed ConfigMaps/Secrets in place (running containers see them). */
  async refreshConfig(changed: readonly ConfigRef[]): Promise<void> {
    await this.volumes?.refresh(changed);
  }

  async listVolumes(): Promise<NodeVolume[]> {
    if (!this.volumes) return [];
    return listNamedVolumes(this.volumes.dataDir, await this.mountingContainers());
  }

  async removeVolume(name: string): Promise<void> {
    if (!this.volumes) throw new GroveError(ErrorCode.NotFound, `volume "${name}" not found on this node`);
    await removeNamedVolume(this.volumes.dataDir, name, await this.mountingContainers());
  }

  private async mountingContainers(): Promise<MountingContainer[]> {
    return (await this.containers.list({ all: true })).map((v) => ({ name: v.name, state: v.state, mounts: v.spec.mounts ?? [] }));
  }

  /** 'ok', 'skipped' (no puller wired), or the pull's error for start() to fall back from. */
  private async pullAlways(pod: WirePodTarget, container: Container): Promise<'ok' | 'skipped' | { error: unknown }> {
    if (!this.images) {
      if (!this.warnedNoPuller) {
        this.warnedNoPuller = true;
        this.log.warn({ pod: pod.name, container: container.name }, 'imagePullPolicy Always: no image store wired, pulling only missing images');
      }
      return 'skipped';
    }
    try {
      // On a stored image this re-fetches the manifest only: cheap unless the tag moved.
      await this.images.pull(container.image);
      return 'ok';
    } catch (error) {
      return { error };
    }
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const grace = await this.preStop(id, graceSeconds);
    try {
      await this.containers.stop(id, grace);
    } catch (err) {
      // Already gone is what the caller wanted.
      if (!isGroveError(err, ErrorCode.ContainerNotFound)) throw err;
    }
  }

  /** Runs the preStop hook recorded on a running container (lifecycle-hooks.ts); the grace left for SIGTERM. */
  private async preStop(id: string, graceSeconds: number): Promise<number> {
    if (graceSeconds <= 0) return graceSeconds;
    const view = await this.containers.find(id).catch(() => undefined);
    const hook = view?.state === 'running' ? preStopOf(view.spec.labels) : undefined;
    if (!view || !hook) return graceSeconds;
    const hostNetwork = view.spec.hostNetwork === true;
    const { outcome, graceLeft } = await runPreStop(hook, graceSeconds, {
      exec: (argv, timeoutMs) => this.exec(id, argv, { timeoutMs }),
      httpGet: (check, timeoutMs) => this.probeNetwork(id, check, { timeoutMs, hostNetwork }),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
    });
    const at = { container: view.name, id: id.slice(0, 12), graceLeft };
    if (outcome.ok) this.log.info({ ...at, result: outcome.message }, 'preStop hook ran');
    else this.log.warn({ ...at, err: outcome.message }, 'preStop hook failed: stopping the container anyway');
    return graceLeft;
  }

  async remove(id: string): Promise<void> {
    try {
      await this.containers.remove(id, { force: true });
    } catch (err) {
      if (!isGroveError(err, ErrorCode.ContainerNotFound)) throw err;
      this.log.debug({ id: id.slice(0, 12) }, 'container already removed');
    }
  }

  async *logs(id: string, options: LogOptions = {}): AsyncGenerator<RuntimeLogLine> {
    const stateDir = this.containers.stateDir(id);
    if (!options.follow) {
      const lines = await readLogLines(stateDir, options.tail === undefined ? {} : { tail: options.tail });
      yield* joinPartials(fromArray(lines));
      return;
    }
    const signal = options.signal ?? new AbortController().signal;
    yield* joinPartials(
      followLog(stateDir, { signal, untilExit: true, ...(options.tail !== undefined ? { tail: options.tail } : {}) }),
    );
  }

  async keepPreviousLogs(id: string): Promise<void> {
    const view = await this.containers.find(id).catch(() => undefined);
    const managed = view && toManaged(view);
    // Kept under the pod's key, not the container's own name (container_name may differ): syncPods drops them with the pod.
    if (managed) await this.previous?.keep(podContainerKeyOf(managed), this.containers.stateDir(id));
  }

  async previousLogs(name: string, options: { tail?: number } = {}): Promise<RuntimeLogLine[] | undefined> {
    return this.previous?.read(name, options.tail);
  }

  async usage(): Promise<ContainerUsageSample[]> {
    const running = (await this.containers.list({ all: false })).filter((v) => isManaged(v.spec.labels));
    const samples = await Promise.all(running.map(async (v) => ({ id: v.id, usage: await this.containers.usage(v).catch(() => undefined) })));
    return samples.flatMap((s) => (s.usage ? [{ id: s.id, ...s.usage }] : []));
  }

  async exec(id: string, argv: string[], options: ExecOptions): Promise<ExecResult> {
    return this.containers.exec(id, argv, options);
  }

  execStream(id: string, argv: string[], options: ExecStreamRequest): Promise<ExecProcess> {
    return this.containers.execStream(id, argv, options);
  }

  async probeNetwork(id: string, check: NetworkCheck, options: NetworkProbeOptions): Promise<ProbeOutcome> {
    // hostNetwork: the container listens on the host's interfaces, which the agent reaches itself.
    if (options.hostNetwork) return checkNetwork(check, options.timeoutMs);
    const view = await this.containers.find(id);
    if (view.state !== 'running' || view.pid === undefined) {
      throw new GroveError(ErrorCode.ContainerNotRunning, `container ${view.name} is not running`);
    }
    // The pod's own network namespace (its CNI sandbox): a Node socket cannot enter it,
    // so a second Node process does, via nsenter: ~90 ms and ~70 ms CPU per check (docs/agent.md).
    const args = ['--target', String(view.pid), '--net', '--', this.nodePath, this.probeScript, JSON.stringify(check), String(options.timeoutMs)];
    // Node's start-up is not the container's fault: it gets its own allowance on top of the probe's.
    const r = await runCommand(this.nsenterPath, args, { timeoutMs: options.timeoutMs + NODE_START_ALLOWANCE_MS, maxOutput: 1024 });
    const message = r.output.trim().split('\n').pop() ?? '';
    if (r.exitCode === 0) return { ok: true, message };
    return { ok: false, message: r.timedOut ? `timeout after ${options.timeoutMs} ms` : message || `nsenter exited with ${r.exitCode ?? 'a signal'}` };
  }
}

/** Kubernetes' default terminationGracePeriodSeconds: a postStart hook's bound when the pod sets none. */
const DEFAULT_GRACE_SECONDS = 30;

/** Extra time for the probe's Node process to start inside the container's network namespace. */
const NODE_START_ALLOWANCE_MS = 2000;

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

function toManaged(v: ContainerView): ManagedContainer | undefined {
  const labels = v.spec.labels;
  if (!isManaged(labels)) return undefined;
  return {
    id: v.id,
    name: v.name,
    labels: { ...labels },
    image: v.image,
    imageDigest: v.imageDigest,
    state: v.state,
    exitCode: v.exitCode,
    oomKilled: v.oomKilled,
    createdAt: v.createdAt,
    ...(v.startedAt ? { startedAt: v.startedAt } : {}),
    ...(v.finishedAt ? { finishedAt: v.finishedAt } : {}),
    restarts: restartsFromLabels(labels),
  };
}

/** The sandbox's namespaces a container joins: all but its IPC namespace when the pod is on the host's (hostIPC). */
function joinedNamespaces(ns: { network?: string; ipc: string; uts: string }, hostIPC: boolean): { network?: string; ipc?: string; uts: string } {
  if (!hostIPC) return { ...ns };
  const { ipc: _ipc, ...rest } = ns;
  return rest;
}
