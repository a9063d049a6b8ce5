/**
 * NodeRuntime over the real ContainerManager (runc/crun + grove-shim + image store): the same
 * stack `grove ctr` drives, so an agent-created container shows up in `grove ctr ps` too.
 */
import { ErrorCode, isGroveError } from '../../../src/core/errors.js';
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

export interface ContainerManagerRuntimeOptions {
  containers: ContainerManager;
  logger: Logger;
}

export class ContainerManagerRuntime implements NodeRuntime {
  private readonly containers: ContainerManager;
  private readonly log: Logger;

  constructor(options: ContainerManagerRuntimeOptions) {
    this.containers = options.containers;
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
    const { resources } = container;
    const view = await this.containers.run({
      image: container.image,
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
      labels: managedLabels(pod, container, options.restarts ?? 0),
      pullMissing: true,
    });
    const managed = toManaged(view);
    if (!managed) throw new Error(`container ${view.name} lost its grove labels`); // cannot happen: we set them
    return managed;
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
