/**
 * NodeRuntime over the real ContainerManager (runc/crun + grove-shim + image store): the same
 * stack `grove ctr` drives, so an agent-created container shows up in `grove ctr ps` too.
 *
 * imagePullPolicy (docs/agent.md): IfNotPresent (default) pulls a missing image; Never only
 * uses the stored one; Always pulls before every start but, unlike Kubernetes, falls back to the
 * stored image when the pull fails, so an edge node that is offline still restarts its pods.
 */
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import type { ContainerTarget, PodTarget } from '../../../src/core/wire-types.js';
import type { ContainerManager, ContainerView } from '../runtime/container-manager.js';
import { followLog, readLogLines } from '../shim/log-reader.js';
import {
  containerName,
  isManaged,
  joinPartials,
  managedLabels,
  restartsFromLabels,
  type LogOptions,
  type ManagedContainer,
  type NodeRuntime,
  type RuntimeLogLine,
  type StartOptions,
} from './node-runtime.js';
import { stopGraceLabels } from './planner.js';

/** What imagePullPolicy Always needs of the image store (ImageStore fits). */
export interface ImagePuller {
  pull(reference: string): Promise<unknown>;
}

export interface ContainerManagerRuntimeOptions {
  containers: ContainerManager;
  logger: Logger;
  /** Pulls for imagePullPolicy Always; without it Always degrades to IfNotPresent (with a warning). */
  images?: ImagePuller;
}

export class ContainerManagerRuntime implements NodeRuntime {
  private readonly containers: ContainerManager;
  private readonly images: ImagePuller | undefined;
  private readonly log: Logger;
  private warnedNoPuller = false;

  constructor(options: ContainerManagerRuntimeOptions) {
    this.containers = options.containers;
    this.images = options.images;
    this.log = options.logger.child({ component: 'agent-runtime' });
  }

  async list(): Promise<ManagedContainer[]> {
    const views = await this.containers.list({ all: true });
    const out: ManagedContainer[] = [];
    for (const v of views) {
      const m = toManaged(v);
      if (m) out.push(m);
    }
    return out;
  }

  async start(pod: PodTarget, container: ContainerTarget, options: StartOptions = {}): Promise<ManagedContainer> {
    const { resources, image } = container;
    const policy = container.imagePullPolicy ?? 'IfNotPresent';
    const pulled = policy === 'Always' ? await this.pullAlways(pod, container) : 'skipped';
    let view: ContainerView;
    try {
      view = await this.containers.run({
        image,
        name: containerName(pod.name, container.name),
        ...(container.command?.length ? { entrypoint: container.command } : {}),
        ...(container.args?.length ? { args: container.args } : {}),
        env: container.env.map((e) => `${e.name}=${e.value}`),
        ...(container.workingDir ? { workingDir: container.workingDir } : {}),
        limits: {
          ...(resources.memoryBytes !== undefined ? { memoryBytes: resources.memoryBytes } : {}),
          ...(resources.cpus !== undefined ? { cpus: resources.cpus } : {}),
          ...(resources.pidsLimit !== undefined ? { pidsLimit: resources.pidsLimit } : {}),
        },
        hostNetwork: pod.hostNetwork,
        labels: { ...managedLabels(pod, container, options.restarts ?? 0), ...stopGraceLabels(pod) },
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
    return managed;
  }

  /** 'ok', 'skipped' (no puller wired), or the pull's error for start() to fall back from. */
  private async pullAlways(pod: PodTarget, container: ContainerTarget): Promise<'ok' | 'skipped' | { error: unknown }> {
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
    try {
      await this.containers.stop(id, graceSeconds);
    } catch (err) {
      // Already gone is what the caller wanted.
      if (!isGroveError(err, ErrorCode.ContainerNotFound)) throw err;
    }
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
}

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
