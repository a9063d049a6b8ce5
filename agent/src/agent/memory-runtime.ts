/**
 * An in-memory NodeRuntime: no processes, no disk. Deterministic (ids count up, time comes from
 * an injected clock) and steerable: tests and hollow nodes decide when a container exits, what
 * it logs and which images fail to pull.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { Container } from '../../../src/core/objects/pod-container.js';
import {
  runtimeContainerName,
  isManaged,
  managedLabels,
  restartsFromLabels,
  stopGraceLabels,
  type ExecOptions,
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
import { isInitContainer, isSidecar } from './plan/init-order.js';
import { MemorySandboxes } from './memory-sandboxes.js';

/** What a started container does by itself: log some lines, and maybe exit at once. */
export interface MemoryBehaviour {
  logs?: string[];
  /** Exit with this code right after starting (the start itself still succeeds). */
  exitCode?: number;
}

export interface MemoryRuntimeOptions {
  /** Milliseconds since the epoch (default Date.now); a ManualClock's now() fits. */
  now?: () => number;
  behaviour?: (pod: WirePodTarget, container: Container) => MemoryBehaviour;
}

/** How a container answers a probe: true = healthy. Gets the exec argv or the network check. */
export type ProbeResponder = (request: { argv: string[] } | { check: NetworkCheck }) => boolean;

interface MemoryContainer {
  view: ManagedContainer;
  logs: RuntimeLogLine[];
  /** Woken whenever a line is appended or the container exits. */
  waiters: Set<() => void>;
}

export class MemoryRuntime implements NodeRuntime {
  private readonly now: () => number;
  private readonly behaviour: (pod: WirePodTarget, container: Container) => MemoryBehaviour;
  private readonly containers = new Map<string, MemoryContainer>();
  private readonly imageErrors = new Map<string, Error>();
  private readonly nextStartErrors: Error[] = [];
  private readonly responders = new Map<string, ProbeResponder>();
  /** The log of each container name's previous instance (keepPreviousLogs). */
  private readonly previous = new Map<string, RuntimeLogLine[]>();
  private seq = 0;
  /** Every probe run ("exec <name> <argv…>", "net <name>"), apart from `calls` so those stay about lifecycle. */
  readonly probeCalls: string[] = [];
  /** Every mutating call, in order ("start web-1_app", "stop <id>", "remove <id>"). */
  readonly calls: string[] = [];
  /** Every stop() with the grace it was given, so tests can check whose grace applied. */
  readonly stops: { id: string; graceSeconds: number }[] = [];
  /** Pod sandboxes, kept apart from `calls` so those stay about containers. */
  readonly sandboxes: MemorySandboxes;

  constructor(options: MemoryRuntimeOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    // By default init containers complete at once (hollow nodes must get their pods running).
    this.behaviour = options.behaviour ?? ((pod, container) => (isInitContainer(pod, container.name) && !isSidecar(container) ? { exitCode: 0 } : {}));
    this.sandboxes = new MemorySandboxes(this.now);
  }

  async list(): Promise<ManagedContainer[]> {
    return [...this.containers.values()].map((c) => copy(c.view));
  }

  async start(pod: WirePodTarget, container: Container, options: StartOptions = {}): Promise<ManagedContainer> {
    const name = runtimeContainerName(pod, container.name);
    this.calls.push(`start ${name}`);
    const imageError = this.imageErrors.get(container.image);
    if (imageError) throw imageError;
    const next = this.nextStartErrors.shift();
    if (next) throw next;
    if ([...this.containers.values()].some((c) => c.view.name === name)) {
      throw new GroveError(ErrorCode.ContainerExists, `container name "${name}" is already in use`);
    }
    this.seq += 1;
    const id = this.seq.toString(16).padStart(64, '0');
    const at = this.iso();
    const labels = { ...managedLabels(pod, container, options.restarts ?? 0), ...stopGraceLabels(pod) };
    if (!isManaged(labels)) throw new Error('unreachable: managed labels are complete');
    const view: ManagedContainer = {
      id,
      name,
      labels,
      image: container.image,
      imageDigest: `sha256:${'0'.repeat(64)}`,
      state: 'running',
      exitCode: null,
      oomKilled: false,
      createdAt: at,
      startedAt: at,
      restarts: restartsFromLabels(labels),
    };
    const entry: MemoryContainer = { view, logs: [], waiters: new Set() };
    this.containers.set(id, entry);
    const started = copy(view);
    const b = this.behaviour(pod, container);
    for (const line of b.logs ?? []) this.appendLog(id, line);
    if (b.exitCode !== undefined) this.exit(id, b.exitCode);
    return started;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    this.calls.push(`stop ${id}`);
    this.stops.push({ id, graceSeconds });
    const c = this.containers.get(id);
    // 143 = 128 + SIGTERM: what a process that honours SIGTERM exits with.
    if (c && c.view.state === 'running') this.exit(id, 143);
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    const c = this.containers.get(id);
    if (!c) return;
    if (c.view.state === 'running') this.exit(id, 137);
    this.containers.delete(id);
  }

  async *logs(id: string, options: LogOptions = {}): AsyncGenerator<RuntimeLogLine> {
    const c = this.containers.get(id);
    if (!c) throw new GroveError(ErrorCode.ContainerNotFound, `no such container: ${id}`);
    const tail = options.tail;
    let pos = tail === undefined ? 0 : Math.max(0, c.logs.length - tail);
    for (;;) {
      while (pos < c.logs.length) yield { ...(c.logs[pos++] as RuntimeLogLine) };
      if (!options.follow || c.view.state !== 'running' || options.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          c.waiters.delete(wake);
          options.signal?.removeEventListener('abort', wake);
          resolve();
        };
        c.waiters.add(wake);
        options.signal?.addEventListener('abort', wake);
      });
    }
  }

  async keepPreviousLogs(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c) this.previous.set(c.view.name, c.logs.map((l) => ({ ...l })));
  }

  async previousLogs(name: string, options: { tail?: number } = {}): Promise<RuntimeLogLine[] | undefined> {
    const lines = this.previous.get(name);
    if (!lines) return undefined;
    return options.tail === undefined ? [...lines] : lines.slice(Math.max(0, lines.length - options.tail));
  }

  async exec(id: string, argv: string[], _options: ExecOptions): Promise<ExecResult> {
    const c = this.find(id);
    this.probeCalls.push(`exec ${c.view.name} ${argv.join(' ')}`);
    if (c.view.state !== 'running') throw new GroveError(ErrorCode.ContainerNotRunning, `container ${c.view.name} is not running`);
    const ok = this.responder(c.view.name)({ argv });
    return { exitCode: ok ? 0 : 1, timedOut: false, output: ok ? '' : 'scripted failure' };
  }

  async probeNetwork(id: string, check: NetworkCheck, _options: NetworkProbeOptions): Promise<ProbeOutcome> {
    const c = this.find(id);
    this.probeCalls.push(`net ${c.view.name}`);
    const ok = c.view.state === 'running' && this.responder(c.view.name)({ check });
    return ok ? { ok, message: 'scripted success' } : { ok, message: 'scripted failure' };
  }

  // ---- controls for tests and hollow nodes ----

  /** How the container named `name` (pod_container, any instance) answers probes from now on; default healthy. */
  answerProbes(name: string, responder: ProbeResponder | boolean): void {
    this.responders.set(name, typeof responder === 'boolean' ? () => responder : responder);
  }

  private responder(name: string): ProbeResponder {
    return this.responders.get(name) ?? (() => true);
  }

  /** Makes a running container exit, as if its process ended. */
  exit(idOrName: string, exitCode: number, options: { oomKilled?: boolean } = {}): void {
    const c = this.find(idOrName);
    if (c.view.state !== 'running') return;
    c.view = { ...c.view, state: 'exited', exitCode, oomKilled: options.oomKilled ?? false, finishedAt: this.iso() };
    this.wake(c);
  }

  appendLog(idOrName: string, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.find(idOrName);
    c.logs.push({ time: this.iso(), stream, text });
    this.wake(c);
  }

  /** Every start of `image` fails with `error` (default: an image-not-found pull error) until cleared with null. */
  failImage(image: string, error: Error | null = new GroveError(ErrorCode.ImageNotFound, `image "${image}" not found`)): void {
    if (error) this.imageErrors.set(image, error);
    else this.imageErrors.delete(image);
  }

  /** The next start (whatever its image) fails with `error`. */
  failNextStart(error: Error): void {
    this.nextStartErrors.push(error);
  }

  get(idOrName: string): ManagedContainer | undefined {
    const c = this.tryFind(idOrName);
    return c ? copy(c.view) : undefined;
  }

  private tryFind(idOrName: string): MemoryContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.view.name === idOrName);
  }

  private find(idOrName: string): MemoryContainer {
    const c = this.tryFind(idOrName);
    if (!c) throw new GroveError(ErrorCode.ContainerNotFound, `no such container: ${idOrName}`);
    return c;
  }

  private wake(c: MemoryContainer): void {
    for (const w of [...c.waiters]) w();
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

function copy(v: ManagedContainer): ManagedContainer {
  return { ...v, labels: { ...v.labels } };
}
