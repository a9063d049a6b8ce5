/**
 * HOLLOW NODES — for scale tests and benchmarks only, never for a real node.
 *
 * A hollow node runs the real agent code (join over HTTP with a token, MQTT sync, agent store,
 * planner, executor, reconciler, status reporting) over the in-memory runtime driver
 * (MemoryRuntime: no processes, no disk) and an in-memory store. Many of them share one process,
 * one logger and one facts object, so a single machine can stand in for a fleet of thousands.
 *
 * Each node records, per app, when it first reported a pod of that app Running with a given
 * template hash: the fan-out bench and the integration tests read convergence from that.
 */
import { hostname } from 'node:os';
import type { Logger } from '../../../src/core/logger.js';
import type { NodeFacts, PodStatus } from '../../../src/core/wire-types.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { Agent } from '../agent/agent.js';
import { joinCluster, type JoinConfig, type JoinFetch } from '../agent/join-client.js';
import { MemoryRuntime } from '../agent/memory-runtime.js';
import type { StatusReport } from '../agent/reconciler.js';

export interface HollowFleetOptions {
  serverUrl: string;
  /** A join token valid for all of them (tokens are reusable until they expire). */
  token: string;
  count: number;
  /** Node names are `<prefix>-<index>`, e.g. hollow-0 … hollow-999. */
  namePrefix?: string;
  /** Joins in flight at once; 0 (default) = all at once, a join storm. */
  joinConcurrency?: number;
  /** Replaces the broker URLs the server hands out (e.g. to spread nodes over cluster members). */
  mqttUrls?: string[];
  labels?: Record<string, string>;
  logger: Logger;
  heartbeatSeconds?: number;
  /** Runtime poll per node (default 30 s: a memory runtime has nothing to notice by polling). */
  pollSeconds?: number;
  reconnectSeconds?: number;
  fetch?: JoinFetch;
}

export interface JoinOutcome {
  node: string;
  /** Milliseconds from the start of the storm to this node's join answer. */
  joinMs: number;
  /** Answers the node had to retry: `busy` (503 + Retry-After), `dropped` (reset or timed out). */
  busy: number;
  dropped: number;
  error?: string;
}

/** One hollow node: the real Agent over a MemoryRuntime and a MemoryStore. */
export class HollowNode {
  agent: Agent | undefined;
  /** `${app}@${templateHash}` → Date.now() when first reported Running. */
  readonly runningSince = new Map<string, number>();
  readonly runtime = new MemoryRuntime();
  /** The broker URLs this node was given (by the server on join, or the fleet's override). */
  brokerUrls: string[] = [];

  constructor(readonly name: string) {}

  observe(report: StatusReport): void {
    for (const pod of report.pods) this.notePod(pod);
  }

  private notePod(pod: PodStatus): void {
    if (pod.phase !== 'Running') return;
    const key = `${pod.app}@${pod.templateHash}`;
    if (!this.runningSince.has(key)) this.runningSince.set(key, Date.now());
  }

  /** When this node first ran `app` at a template other than `notHash` (undefined: not yet). */
  convergedAt(app: string, notHash?: string): number | undefined {
    let first: number | undefined;
    for (const [key, at] of this.runningSince) {
      const [a, hash] = splitKey(key);
      if (a === app && hash !== notHash && (first === undefined || at < first)) first = at;
    }
    return first;
  }

  /** Template hashes of `app` this node has run. */
  hashes(app: string): string[] {
    return [...this.runningSince.keys()].map(splitKey).filter(([a]) => a === app).map(([, h]) => h);
  }
}

function splitKey(key: string): [string, string] {
  const at = key.lastIndexOf('@');
  return [key.slice(0, at), key.slice(at + 1)];
}

export class HollowFleet {
  readonly nodes: HollowNode[];
  private readonly opts: HollowFleetOptions;
  private readonly facts: () => Promise<NodeFacts>;

  constructor(options: HollowFleetOptions) {
    this.opts = options;
    const prefix = options.namePrefix ?? 'hollow';
    this.nodes = Array.from({ length: options.count }, (_, i) => new HollowNode(`${prefix}-${i}`));
    // One frozen object for the whole fleet: the facts of a small, healthy node.
    const facts: NodeFacts = Object.freeze({
      arch: process.arch,
      os: 'linux',
      cpus: 4,
      memoryBytes: 4 * 1024 ** 3,
      memoryAvailableBytes: 3 * 1024 ** 3,
      diskFreeBytes: 32 * 1024 ** 3,
      kernel: 'hollow',
      ociRuntime: 'hollow',
      cgroupVersion: 2,
      agentVersion: `hollow@${hostname()}`,
      labels: Object.freeze({ 'node.grove.io/hollow': 'true', ...(options.labels ?? {}) }) as Record<string, string>,
    });
    this.facts = () => Promise.resolve(facts);
  }

  /**
   * Joins every node (all at once unless joinConcurrency says otherwise) and starts its agent
   * right after its own join answer, as a real node would.
   */
  async joinAndStart(): Promise<JoinOutcome[]> {
    const started = Date.now();
    const limit = this.opts.joinConcurrency && this.opts.joinConcurrency > 0 ? this.opts.joinConcurrency : this.nodes.length;
    const outcomes: JoinOutcome[] = new Array(this.nodes.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < this.nodes.length; i = next++) {
        const node = this.nodes[i]!;
        let busy = 0;
        let dropped = 0;
        try {
          const joined = await joinCluster({
            serverUrl: this.opts.serverUrl,
            token: this.opts.token,
            nodeName: node.name,
            dataDir: '/nonexistent-hollow',
            persist: false,
            ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
            ...(this.opts.labels ? { labels: this.opts.labels } : {}),
            onRetry: (r) => (r.reason === 'busy' ? busy++ : dropped++),
          });
          outcomes[i] = { node: node.name, joinMs: Date.now() - started, busy, dropped };
          await this.startAgent(node, joined);
        } catch (err) {
          outcomes[i] = { node: node.name, joinMs: Date.now() - started, busy, dropped, error: (err as Error).message };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, this.nodes.length) }, worker));
    return outcomes;
  }

  private async startAgent(node: HollowNode, joined: JoinConfig): Promise<void> {
    const urls = this.opts.mqttUrls ?? joined.mqtt.urls;
    node.brokerUrls = urls ?? [joined.mqtt.url];
    const agent = new Agent({
      nodeName: joined.node,
      cluster: joined.cluster,
      store: new MemoryStore(),
      runtime: node.runtime,
      mqtt: { url: urls?.[0] ?? joined.mqtt.url, ...(urls ? { urls } : {}), username: joined.mqtt.username, password: joined.mqtt.password, ...(joined.caCert ? { ca: joined.caCert } : {}) },
      logger: this.opts.logger,
      facts: this.facts,
      observeStatus: (report) => node.observe(report),
      pollSeconds: this.opts.pollSeconds ?? 30,
      stopGraceSeconds: 1,
      ...(this.opts.heartbeatSeconds !== undefined ? { heartbeatSeconds: this.opts.heartbeatSeconds } : {}),
      ...(this.opts.reconnectSeconds !== undefined ? { reconnectSeconds: this.opts.reconnectSeconds } : {}),
    });
    node.agent = agent;
    await agent.start();
  }

  /** Joined nodes that have not (yet) run `app` at a template other than `notHash`. */
  pending(app: string, notHash?: string): HollowNode[] {
    return this.joined().filter((n) => n.convergedAt(app, notHash) === undefined);
  }

  /** Nodes whose join succeeded (a failed join is final: the node never runs an agent). */
  joined(): HollowNode[] {
    return this.nodes.filter((n) => n.agent !== undefined);
  }

  /**
   * Resolves with the one template hash every node runs `app` at, once every node runs it at a
   * hash other than `notHash`; rejects after `timeoutMs` naming how many nodes lag.
   */
  async waitForApp(app: string, notHash: string | undefined, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = this.pending(app, notHash);
      if (pending.length === 0) {
        const hashes = new Set(this.joined().flatMap((n) => n.hashes(app)).filter((h) => h !== notHash));
        if (hashes.size !== 1) throw new Error(`fleet runs ${app} at ${hashes.size} templates: ${[...hashes].join(', ')}`);
        return [...hashes][0]!;
      }
      if (Date.now() > deadline) {
        const sample = pending.slice(0, 5).map((n) => n.name).join(', ');
        throw new Error(`${pending.length}/${this.joined().length} joined hollow nodes do not run ${app} yet (e.g. ${sample}); ${this.connectedCount()} connected`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  connectedCount(): number {
    return this.nodes.filter((n) => n.agent?.connected).length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.agent?.stop().catch(() => undefined)));
  }
}
