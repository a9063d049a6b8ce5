/**
 * The agent's side of the sync protocol over MQTT (src/core/wire-types.ts, docs/agent.md).
 *
 * - target (retained, QoS 1): decoded and verified; a revision not newer than the applied one is
 *   ignored; a newer one is persisted to the agent store in one commit BEFORE it is applied, so
 *   an agent that dies mid-apply reconciles from it after a restart.
 * - status (QoS 1): sent on change and as a heartbeat; never queued while offline. Only the
 *   latest status matters, so on reconnect exactly one is sent and stale in-flight ones are
 *   dropped from the client's outgoing store.
 * - presence (retained): online on every connect; offline on stop, and as the Last Will when
 *   the connection dies without a goodbye.
 * - rpc/req → rpc/res: the `logs` method (rpc-logs.ts), `volumes` (rpc-volumes.ts), `cancel` (ends
 *   a followed log), and the stream sessions `exec` and `portforward` with their `stream` messages
 *   (stream-sessions.ts).
 * - config (retained, QoS 1): the node's encrypted ConfigMap/Secret bundle, handed as received
 *   to `onConfig` (synced-config.ts decrypts and keeps it).
 */
import { randomUUID } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { connectMqtt as mqttConnect } from './mqtt-lean.js';
import { brokerServer, rotateForKey } from '../../../src/core/broker-urls.js';
import { keepSubscribed } from '../../../src/core/mqtt-subscribe.js';
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { networkTopics, topicsFor, type NodeTopics } from '../../../src/core/topics.js';
import { encodeMessage } from '../../../src/core/wire-codec.js';
import { decodeTargetMessage, type DecodedTarget, type WireNodeTarget } from '../../../src/core/wire-target.js';
import { decodeRpcRequest } from '../../../src/core/wire-from-server.js';
import { WIRE_SCHEMA, type NodeFacts, type NodeStatus, type NodeUsage, type Presence, type RpcResponse } from '../../../src/core/wire-types.js';
import type { Store } from '../../../src/store/store.js';
import type { Clock, TimerHandle } from '../../../src/core/clock.js';
import type { NodeRuntime } from './node-runtime.js';
import type { StatusReport } from './reconciler.js';
import type { StreamSessions } from './stream-sessions.js';

/** Store keys of the agent's own store. */
export const TARGET_KEY = 'target';
export const APPLIED_REVISION_KEY = 'applied-revision';

export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface MqttSettings {
  url: string;
  /** Members of a clustered broker, `url` among them: each reconnect tries the next one. */
  urls?: string[];
  username: string;
  password: string;
  /** PEM of the cluster CA, for mqtts:// (pinned: the system roots are not used). */
  ca?: string;
}

export interface SyncClientOptions {
  cluster: string;
  node: string;
  mqtt: MqttSettings;
  connect?: MqttConnect;
  store: Store;
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  facts: () => Promise<NodeFacts>;
  /** What the node and its containers use (usage.ts), sent with every status; absent = not reported. */
  usage?: () => Promise<NodeUsage | undefined>;
  /** Called with each newer target after it has been persisted. */
  onTarget: (target: WireNodeTarget) => void | Promise<void>;
  /** Each config bundle message (undefined: the config topic is not subscribed). */
  onConfig?: (payload: Buffer) => void | Promise<void>;
  /** Each message of the cluster network view (network-sync.ts); undefined: grove/v1/<c>/network/# is not subscribed. */
  onNetwork?: (topic: string, payload: Buffer) => void;
  /** Revision already applied (from the store), so the retained copy is not re-applied. */
  appliedRevision?: number;
  heartbeatSeconds?: number;
  /** Base reconnect delay; each disconnection picks a delay in [0.5, 1.5) × base. */
  reconnectSeconds?: number;
  random?: () => number;
  logFollowSeconds?: number;
  /**
   * This agent process's run id, sent in every status (default: a random UUID per SyncClient,
   * i.e. per agent start). The server orders statuses by (runId, seq), never by this node's
   * clock across restarts.
   */
  runId?: string;
}

const GOODBYE_TIMEOUT_MS = 2000;
/** Requests that can be cancelled at once; more still run, and end by themselves. */
const MAX_CANCELLABLE = 1000;

export class SyncClient {
  private readonly opts: SyncClientOptions;
  private readonly topics: NodeTopics;
  /** grove/v1/<cluster>/network/: the network view's messages start with it. */
  private readonly networkPrefix: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private client: MqttClient | undefined;
  private applied: number;
  private latest: StatusReport = { observedRevision: 0, pods: [] };
  private seq = 0;
  readonly runId: string;
  private lastFacts: NodeFacts | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  /** Message ids of status publishes not yet acknowledged. */
  private readonly inflightStatus = new Set<number>();
  private targetChain: Promise<void> = Promise.resolve();
  private readonly rpcAbort = new AbortController();
  private readonly rpcs = new Set<Promise<void>>();
  /** Requests in progress by id, for `cancel` (bounded: a flood of requests cannot grow it). */
  private readonly cancellable = new Map<string, AbortController>();
  private stopped = false;
  private lastError: string | undefined;
  /**
   * Exec and port-forward sessions, loaded with the first one: most nodes never run one, and
   * what a daemon loads stays in its memory. One promise, so a session's input chunks are
   * handled after its opening, in the order they came.
   */
  private streams: Promise<StreamSessions> | undefined;

  constructor(options: SyncClientOptions) {
    this.opts = options;
    this.topics = topicsFor(options.cluster, options.node);
    this.networkPrefix = networkTopics(options.cluster).all.slice(0, -1);
    this.log = options.logger.child({ component: 'agent-sync' });
    this.clock = options.clock;
    this.heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;
    this.applied = options.appliedRevision ?? 0;
    this.runId = options.runId ?? randomUUID();
  }

  private streamSessions(): Promise<StreamSessions> {
    this.streams ??= import('./stream-sessions.js').then(
      ({ StreamSessions }) => new StreamSessions({ runtime: this.opts.runtime, clock: this.clock, logger: this.log, send: (res) => this.publishRpc(res) }),
    );
    return this.streams;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  appliedRevision(): number {
    return this.applied;
  }

  /** Connects in the background; mqtt.js keeps reconnecting until stop(). */
  start(): void {
    if (this.client) return;
    const { mqtt } = this.opts;
    const connect = this.opts.connect ?? mqttConnect;
    const urls = rotateForKey(mqtt.urls?.length ? mqtt.urls : [mqtt.url], this.opts.node);
    const client = connect(urls[0]!, {
      ...(urls.length > 1 ? { servers: urls.map(brokerServer) } : {}),
      clientId: `grove-agent-${this.opts.node}`,
      username: mqtt.username,
      password: mqtt.password,
      // A clean session: the retained target is all we need after a reconnect, and a broker
      // holding queued messages for a long-offline node would only replay stale state.
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: this.reconnectDelay(),
      resubscribe: false,
      // A refused CONNACK (broker restarting, credentials not synced yet) must not end the
      // agent's attempts for good: it keeps trying like after any other outage.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      will: { topic: this.topics.presence, payload: this.presence(false), qos: 1, retain: true },
      ...(mqtt.ca ? { ca: mqtt.ca, rejectUnauthorized: true } : {}),
    });
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('offline', () => {
      // Read by mqtt.js right after this event to arm its reconnect timer: jitter per outage
      // so a fleet that lost its broker does not reconnect in lockstep.
      client.options.reconnectPeriod = this.reconnectDelay();
      this.log.info({ retryMs: client.options.reconnectPeriod }, 'broker unreachable, will retry');
    });
    client.on('close', () => this.dropInflightStatus(client));
    client.on('error', (err) => {
      // The same error on every retry of an outage is logged once, then at debug.
      const message = errorMessage(err);
      if (message === this.lastError) this.log.debug({ err: message }, 'mqtt error');
      else this.log.warn({ err: message }, 'mqtt error');
      this.lastError = message;
    });
  }

  /** Says goodbye (offline presence) when connected, then disconnects. Never touches containers. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.rpcAbort.abort();
    void this.streams?.then((streams) => streams.stopAll());
    // Bounded: a final rpc chunk waiting for an ack on a half-dead link must not block stop().
    await withTimeout(Promise.allSettled([...this.rpcs]), GOODBYE_TIMEOUT_MS).catch(() => undefined);
    await this.targetChain;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      await withTimeout(
        client.publishAsync(this.topics.presence, this.presence(false), { qos: 1, retain: true }),
        GOODBYE_TIMEOUT_MS,
      ).catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'offline presence not acknowledged'));
    }
    // Forced when offline: nothing is pending that we want delivered later.
    await withTimeout(client.endAsync(!client.connected), GOODBYE_TIMEOUT_MS).catch(() => client.end(true));
  }

  /** The reconciler's latest status: sent now if connected, else only remembered. */
  reportStatus(report: StatusReport): void {
    this.latest = report;
    void this.sendStatus(false);
  }

  private onConnect(client: MqttClient): void {
    if (this.stopped || client !== this.client) return;
    this.lastError = undefined;
    this.log.info({ broker: `${client.options.host ?? ''}:${client.options.port ?? ''}` }, 'connected to broker');
    client.publish(this.topics.presence, this.presence(true), { qos: 1, retain: true }, (err) => {
      if (err) this.log.debug({ err: errorMessage(err) }, 'online presence not sent');
    });
    this.subscribe(client);
    // Exactly one status per (re)connect: the current one, whatever happened while offline.
    void this.sendStatus(false);
  }

  /** Subscribes to the target and rpc topics, retried while refused (src/core/mqtt-subscribe.ts). */
  private subscribe(client: MqttClient): void {
    const topics = { [this.topics.target]: { qos: 1 as const }, [this.topics.rpcRequest]: { qos: 1 as const }, ...(this.opts.onConfig ? { [this.topics.config]: { qos: 1 as const } } : {}), ...(this.opts.onNetwork ? { [networkTopics(this.opts.cluster).all]: { qos: 1 as const } } : {}) };
    keepSubscribed(client, {
      clock: this.clock,
      topics,
      retryMs: () => this.reconnectDelay(),
      current: () => !this.stopped && client === this.client,
      onRetry: (err, retryMs) => this.log.warn({ err, retryMs }, 'subscribe failed, will retry'),
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    if (topic === this.topics.target) {
      // One at a time and in arrival order, so persist-then-apply never interleaves.
      this.targetChain = this.targetChain.then(() => this.handleTarget(payload));
    } else if (topic === this.topics.rpcRequest) {
      this.handleRpc(payload);
    } else if (this.opts.onNetwork && topic.startsWith(this.networkPrefix)) {
      this.opts.onNetwork(topic, payload);
    } else if (topic === this.topics.config && this.opts.onConfig) {
      // On the target chain, in arrival order: the server publishes a bundle before the target needing it.
      this.targetChain = this.targetChain.then(async () => {
        try {
          await this.opts.onConfig!(payload);
        } catch (err) {
          this.log.warn({ err: errorMessage(err) }, 'config bundle not applied');
        }
      });
    }
  }

  private async handleTarget(payload: Buffer): Promise<void> {
    if (payload.length === 0) {
      this.log.debug('empty retained target (cleared by the server), ignored');
      return;
    }
    let decoded: DecodedTarget;
    try {
      // Schema 2, or a schema-1 target of a server not upgraded yet, converted to schema 2 (stored as it came).
      decoded = decodeTargetMessage(payload);
    } catch (err) {
      this.log.warn({ err: errorMessage(err), bytes: payload.length }, 'invalid target dropped');
      return;
    }
    const { target, stored } = decoded;
    if (target.cluster !== this.opts.cluster || target.node !== this.opts.node) {
      this.log.warn({ cluster: target.cluster, node: target.node }, 'target addressed to another node dropped');
      return;
    }
    if (target.revision <= this.applied) {
      this.log.debug({ revision: target.revision, applied: this.applied }, 'target not newer than the applied one, ignored');
      return;
    }
    try {
      await this.opts.store.commit([
        { type: 'put', key: TARGET_KEY, value: stored },
        { type: 'put', key: APPLIED_REVISION_KEY, value: target.revision },
      ]);
    } catch (err) {
      // Not applied either: applying what a restart would forget breaks the offline guarantee.
      this.log.error({ revision: target.revision, err: errorMessage(err) }, 'could not persist target, not applying it');
      return;
    }
    this.applied = target.revision;
    this.log.info({ revision: target.revision, pods: target.pods.length }, 'new target');
    try {
      await this.opts.onTarget(target);
    } catch (err) {
      this.log.warn({ revision: target.revision, err: errorMessage(err) }, 'applying target failed');
    }
  }

  private handleRpc(payload: Buffer): void {
    let req;
    try {
      req = decodeRpcRequest(payload);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'invalid rpc request dropped');
      return;
    }
    if (req.method === 'stream') {
      // Per chunk of a session's input: not logged, not tracked as a request of its own.
      void this.streamSessions().then((streams) => streams.message(req));
      return;
    }
    this.log.debug({ id: req.id, method: req.method, ...(req.method === 'exec' ? {} : { params: req.params }) }, 'rpc request');
    if (req.method === 'cancel') {
      this.cancellable.get(req.params.id)?.abort();
      return;
    }
    const send = (res: RpcResponse): Promise<void> => this.publishRpc(res);
    // Each request can be cancelled on its own (a log reader went away) and all of them by stop().
    const abort = new AbortController();
    const signal = AbortSignal.any([this.rpcAbort.signal, abort.signal]);
    // Each kind of request loads its code when it first comes (rarely, on most nodes).
    const served =
      req.method === 'volumes'
        ? import('./rpc-volumes.js').then(({ serveVolumes }) => serveVolumes(req, { runtime: this.opts.runtime, send }))
        : req.method === 'exec' || req.method === 'portforward'
          ? this.streamSessions().then((streams) => streams.open(req))
          : import('./rpc-logs.js').then(({ serveLogs }) =>
            serveLogs(req, {
              runtime: this.opts.runtime,
              clock: this.clock,
              signal,
              send,
              ...(this.opts.logFollowSeconds !== undefined ? { followMs: this.opts.logFollowSeconds * 1000 } : {}),
            }),
          );
    if (this.cancellable.size < MAX_CANCELLABLE) this.cancellable.set(req.id, abort);
    const run = served.catch((err: unknown) => this.log.warn({ id: req.id, err: errorMessage(err) }, 'rpc failed'));
    this.rpcs.add(run);
    void run.finally(() => {
      this.rpcs.delete(run);
      if (this.cancellable.get(req.id) === abort) this.cancellable.delete(req.id);
    });
  }

  private async publishRpc(res: RpcResponse): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the broker');
    await client.publishAsync(this.topics.rpcResponse, encodeMessage(res), { qos: 1 });
  }

  private async sendStatus(heartbeat: boolean): Promise<void> {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    const facts = await this.opts.facts().catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'gathering node facts failed, sending the last ones');
      return this.lastFacts;
    });
    if (!facts) return;
    this.lastFacts = facts;
    const usage = await this.opts.usage?.().catch((err: unknown) => {
      this.log.debug({ err: errorMessage(err) }, 'reading usage failed');
      return undefined;
    });
    // Re-checked after the await: a status gathered before a disconnect is not queued.
    if (!client.connected || client !== this.client || this.stopped) return;
    const status: NodeStatus = {
      schema: WIRE_SCHEMA,
      node: this.opts.node,
      runId: this.runId,
      seq: ++this.seq,
      observedRevision: this.latest.observedRevision,
      heartbeat,
      facts,
      pods: this.latest.pods,
      ...(this.latest.deferred ? { deferred: this.latest.deferred } : {}),
      ...(usage ? { usage } : {}),
      sentAt: new Date(this.clock.now()).toISOString(),
    };
    let messageId: number | undefined;
    client.publish(this.topics.status, encodeMessage(status), { qos: 1 }, (err) => {
      if (messageId !== undefined) this.inflightStatus.delete(messageId);
      if (err && !/removed/i.test(err.message)) this.log.debug({ err: errorMessage(err) }, 'status not sent');
    });
    messageId = client.getLastMessageId();
    if (messageId !== undefined) this.inflightStatus.add(messageId);
    // Tests count these to show a reconnect sends one status, not a backlog.
    this.log.debug({ seq: status.seq, heartbeat, observedRevision: status.observedRevision }, 'status sent');
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.stopped || this.heartbeatMs <= 0) return;
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      void this.sendStatus(true);
    }, this.heartbeatMs);
  }

  /** Stale statuses must not be replayed after a reconnect: the connect handler sends a fresh one. */
  private dropInflightStatus(client: MqttClient): void {
    for (const id of this.inflightStatus) client.removeOutgoingMessage(id);
    this.inflightStatus.clear();
  }

  private presence(online: boolean): Buffer {
    const p: Presence = { schema: WIRE_SCHEMA, node: this.opts.node, online, at: new Date(this.clock.now()).toISOString() };
    return encodeMessage(p);
  }

  private reconnectDelay(): number {
    const base = (this.opts.reconnectSeconds ?? 5) * 1000;
    return Math.max(100, Math.round(base * (0.5 + (this.opts.random ?? Math.random)())));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
