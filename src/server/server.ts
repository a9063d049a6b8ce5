/**
 * The control plane: one object wiring the store, the MQTT connection (as user grove-server),
 * the status cache, the controller and the RPC proxy, and offering the operations the HTTP API
 * exposes. It works the same against the embedded broker and an external one: all it needs is
 * an MQTT URL and the server's credentials.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { createBatcher } from '../core/batcher.js';
import { brokerServer } from '../core/broker-urls.js';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import type { App, ConfigMap, PodAssignment, Secret } from '../core/model.js';
import { TOPIC_ROOT, allNodesTopic, topicsFor } from '../core/topics.js';
import { encodeBackup } from '../store/backup.js';
import type { Store } from '../store/store.js';
import { every, systemClock, type Clock } from '../core/clock.js';
import { Controller } from './controller.js';
import { Mutex } from './mutex.js';
import { defaultConnect, type MqttConnect } from './mqtt-connect.js';
import { deleteNode, patchNode, type NodeRegistration } from './nodes.js';
import { commitJoinBatch, createTokenFromBody, listTokenViews, revokeTokenById, type JoinOutcome } from './identity-api.js';
import { DroppedLabelNotes, NODE_LABEL_PREFIX } from './node-labels.js';
import { applyResources, deleteResource, getResource, listResources, PREFIX, type ApplyResult, type DeletableKind } from './resources.js';
import { RpcProxy, type LogLine } from './rpc-proxy.js';
import type { NodeView } from './scheduler.js';
import { revisionsOf, rolloutHistory, rolloutRestart, rolloutStatus, rolloutUndo, type RevisionView, type RolloutDeps, type RolloutStatusView } from './rollout-api.js';
import { indexRevisions } from './revisions.js';
import { SERVER_USERNAME } from './security/credentials.js';
import type { CreatedJoinToken, JoinTokenView } from './security/tokens.js';
import { StatusCache, type StoredNode } from './status-cache.js';
import { RevisionFloor } from './revision-floor.js';
import { appDeferred, appSummary, effectiveLabels, nodeDetail, podView, secretView, type AppSummary, type DeferredView, type NodeDetail, type PodView } from './views.js';
import { invalid, name as validName } from './validate.js';
import { listVolumes, removeVolume, type NodeVolumes } from './volumes-api.js';
import { ConfigDistributor } from './config-distributor.js';
import { fetchNodeConfigKey } from './node-key-api.js';
import { finishedJobApps, jobExpired } from './job-ttl.js';
import { streamLogs } from './logs-api.js';
import { ObjectStore } from './objects/object-store.js';
import { ensureDefaultNamespace } from './objects/namespaces.js';
import { StatusWriter } from './objects/status-writer.js';
import { NodeReports } from './objects/node-reports.js';
import { ControllerLoop } from './objects/controller-loop.js';
import type { Controller as ObjectController } from './controllers/controller.js';

export type { MqttConnect };

export interface ControlPlaneOptions {
  /** Opened by the caller, who also closes it after stop(). */
  store: Store;
  cluster: string;
  /** `urls`: every member of a clustered broker; the connection fails over between them. */
  mqtt: { url: string; urls?: string[]; username?: string; password: string; ca?: string };
  connect?: MqttConnect;
  logger: Logger;
  clock?: Clock;
  adminToken: string;
  /** sha256 of the cluster CA, baked into join tokens; absent when TLS is off. */
  caFingerprint?: string;
  /** The CA certificate (PEM) served on GET /v1/ca and handed to joining nodes. */
  caCertPem?: string;
  /** The MQTT URL nodes should use (may differ from ours: we may talk to the broker on localhost). */
  brokerUrlForNodes: string;
  /** All broker members nodes may use (a clustered broker); handed out on join beside the first. */
  brokerUrlsForNodes?: string[];
  /**
   * A broker whose users the server does not manage (NATS, EMQX with its own auth): every node
   * gets these shared credentials on join instead of its own.
   */
  nodeMqttCredentials?: { username: string; password: string };
  /** Called after a node (re)joined, e.g. to rewrite an external Mosquitto's password file. */
  registerNode?: (node: NodeRegistration) => Promise<void>;
  /** Called after a node was deleted: end its broker session, drop it from Mosquitto's files. */
  onNodeDeleted?: (node: string) => Promise<void> | void;
  /** Makes a rotated admin token durable (<data>/server/admin-token, client.json) before it is used. */
  persistAdminToken?: (token: string) => Promise<void>;
  /** NotReady after this long without a status or presence (default 40 s). */
  nodeGraceMs?: number;
  /** How long a node may be NotReady before its Deployment pods move (default 5 min). */
  evictionTimeoutMs?: number;
  /** hostPath volumes must lie under one of these; absent/empty = any absolute path (docs/security.md). */
  hostPathRoots?: string[];
  rpcTimeoutMs?: number;
  debounceMs?: number;
  /**
   * How often readiness is re-evaluated (heartbeats that stopped are only noticed by a timer);
   * default a quarter of the grace, at most 5 s, so NotReady shows soon after the grace ends.
   */
  sweepIntervalMs?: number;
  nameSuffix?: () => string;
  /** Fresh object uids (random UUIDs by default). */
  newUid?: () => string;
  /**
   * The object controllers the controller loop runs (src/server/controllers); none until the
   * switch from the 0.1 App controller, when the loop does not run at all.
   */
  objectControllers?: readonly ObjectController[];
}

export interface JoinResponse {
  cluster: string;
  node: string;
  mqtt: { url: string; urls?: string[]; username: string; password: string };
  caCert?: string;
  /** base64 of the node's 32-byte config key: decrypts its ConfigMap/Secret bundles. */
  configKey: string;
}

export interface LogsQuery {
  app?: string;
  pod?: string;
  node?: string;
  container?: string;
  tail?: number;
  follow?: boolean;
}

export class ControlPlane {
  readonly cluster: string;
  private readonly log: Logger;
  /** The server's time: its pieces and its API read and wait on this one clock. */
  readonly clock: Clock;
  private readonly mutex = new Mutex();
  private readonly statusCache: StatusCache;
  private readonly controller: Controller;
  private readonly rpc: RpcProxy;
  private readonly configs: ConfigDistributor;
  private readonly revisionFloor: RevisionFloor;
  /** Kubernetes objects: the only writer of object keys (src/server/objects/object-store.ts). */
  readonly objects: ObjectStore;
  /** Object statuses, coalesced into ≤ 1 commit per second (src/server/objects/status-writer.ts). */
  readonly statusWriter: StatusWriter;
  private readonly nodeReports: NodeReports;
  private readonly controllerLoop: ControllerLoop;
  private client: MqttClient | undefined;
  private stopSweep: (() => void) | undefined;
  private checkingJobs = false;
  private currentAdminToken: string;
  /** Self-reported labels outside node.grove.io/ are dropped; logged once per node. */
  private readonly labelNotes = new DroppedLabelNotes();

  constructor(private readonly opts: ControlPlaneOptions) {
    this.cluster = validName(opts.cluster, 'cluster');
    this.currentAdminToken = opts.adminToken;
    this.log = opts.logger.child({ component: 'control-plane' });
    this.configs = new ConfigDistributor({ store: opts.store, cluster: this.cluster, logger: opts.logger, publish: (topic, payload) => this.publish(topic, payload, true) });
    this.clock = opts.clock ?? systemClock();
    this.objects = new ObjectStore({ store: opts.store, clock: this.clock, ...(opts.newUid ? { newUid: opts.newUid } : {}) });
    this.statusWriter = new StatusWriter({ objects: this.objects, clock: this.clock, logger: opts.logger });
    this.nodeReports = new NodeReports(this.objects, this.statusWriter);
    this.controllerLoop = new ControllerLoop({
      objects: this.objects,
      controllers: opts.objectControllers ?? [],
      clock: this.clock,
      logger: opts.logger,
      reports: () => this.statusCache.reports(),
    });
    this.statusCache = new StatusCache({
      store: opts.store,
      cluster: this.cluster,
      logger: opts.logger,
      clock: this.clock,
      mutex: this.mutex,
      ...(opts.nodeGraceMs !== undefined ? { nodeGraceMs: opts.nodeGraceMs } : {}),
      onNodeEvent: () => this.controller.nudge(),
      targetRevision: (node) => this.controller.targetRevision(node),
      onNodeBehind: (node) => this.controller.republishNode(node),
      onNodeRevision: (node, revision) => this.revisionFloor.observe(node, revision),
      reportNode: (node, readiness, facts) => {
        this.nodeReports.report(node, readiness, facts).catch((err: unknown) => this.log.error({ node, err: errorMessage(err) }, 'could not record the node status'));
      },
    });
    this.revisionFloor = new RevisionFloor({
      store: opts.store,
      mutex: this.mutex,
      logger: opts.logger,
      targetRevision: (node) => this.controller.targetRevision(node),
      reissue: (node) => this.controller.reissueNode(node),
      now: () => this.clock.now(),
    });
    this.controller = new Controller({
      store: opts.store,
      cluster: this.cluster,
      logger: opts.logger,
      clock: this.clock,
      mutex: this.mutex,
      publish: (topic, payload) => this.publish(topic, payload, true),
      nodeView: (record) => this.schedulerView(record),
      availablePods: () => this.statusCache.readyPods(),
      deferredApps: () => this.statusCache.deferredApps(),
      configs: this.configs,
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      ...(opts.evictionTimeoutMs !== undefined ? { evictionTimeoutMs: opts.evictionTimeoutMs } : {}),
      ...(opts.nameSuffix ? { nameSuffix: opts.nameSuffix } : {}),
    });
    this.rpc = new RpcProxy({
      cluster: this.cluster,
      logger: opts.logger,
      publish: (topic, payload) => this.publish(topic, payload, false),
      clock: this.clock,
      ...(opts.rpcTimeoutMs !== undefined ? { timeoutMs: opts.rpcTimeoutMs } : {}),
    });
  }

  async start(): Promise<void> {
    if (await ensureDefaultNamespace(this.objects)) this.log.info('created namespace default');
    await this.statusCache.start();
    const connect: MqttConnect = this.opts.connect ?? defaultConnect(this.log);
    const client = await connect(this.opts.mqtt.url, {
      username: this.opts.mqtt.username ?? SERVER_USERNAME,
      password: this.opts.mqtt.password,
      clientId: this.opts.mqtt.username ?? SERVER_USERNAME,
      // 3.1.1: what both the embedded broker (aedes) and Mosquitto speak.
      protocolVersion: 4,
      // Statuses missed while we were away are stale by now; the next heartbeat says it all,
      // and retained presences arrive again on subscribe.
      clean: true,
      reconnectPeriod: 2000,
      ...((this.opts.mqtt.urls?.length ?? 0) > 1 ? { servers: this.opts.mqtt.urls!.map(brokerServer) } : {}),
      ...(this.opts.mqtt.ca ? { ca: this.opts.mqtt.ca } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
    client.on('offline', () => this.log.warn('MQTT connection lost; reconnecting'));
    // After a reconnect the broker may be a fresh one (restarted, retained messages gone).
    client.on('connect', () => {
      this.log.info('MQTT reconnected; re-publishing targets');
      this.controller.republishAll();
    });
    await client.subscribeAsync(
      [allNodesTopic(this.cluster, 'status'), allNodesTopic(this.cluster, 'presence'), allNodesTopic(this.cluster, 'rpcResponse')],
      { qos: 1 },
    );
    await this.controller.start();
    if ((this.opts.objectControllers?.length ?? 0) > 0) this.controllerLoop.start();
    const sweepMs = this.opts.sweepIntervalMs ?? Math.max(100, Math.min(5000, Math.floor(this.statusCache.graceMs / 4)));
    this.stopSweep = every(this.clock, sweepMs, () => {
      void this.statusCache.sweep();
      // One check at a time: a slow store must not stack them up.
      if (!this.checkingJobs) {
        this.checkingJobs = true;
        void this.deleteExpiredJobs().finally(() => (this.checkingJobs = false));
      }
    });
    this.log.info({ cluster: this.cluster, mqtt: this.opts.mqtt.url }, 'control plane started');
  }

  async stop(): Promise<void> {
    this.stopSweep?.();
    this.stopSweep = undefined;
    this.rpc.stop();
    await this.controllerLoop.stop();
    await this.controller.stop();
    await this.statusWriter.stop();
    this.configs.stop();
    await this.statusCache.stop();
    await this.revisionFloor.idle();
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'MQTT close failed'));
  }

  /** ttlSecondsAfterFinished: deletes finished Jobs whose TTL has passed (src/server/job-ttl.ts). */
  async deleteExpiredJobs(): Promise<string[]> {
    const reported = this.statusCache.reportedPods();
    const deleted: string[] = [];
    for (const name of finishedJobApps(reported)) {
      try {
        const app = await getResource<App>(this.opts.store, 'App', name);
        if (!jobExpired(app, reported, this.clock.now())) continue;
        await this.delete('App', name);
        deleted.push(name);
        this.log.info({ app: name, ttlSeconds: app.spec.job?.ttlSecondsAfterFinished }, 'deleted finished Job after its ttlSecondsAfterFinished');
      } catch (err) {
        // Gone already (deleted by hand, or by an earlier sweep): nothing to do.
        if (!(err instanceof GroveError && err.code === ErrorCode.NotFound)) this.log.warn({ app: name, err: errorMessage(err) }, 'Job TTL check failed');
      }
    }
    return deleted;
  }

  /** Resolves when pending reconciles and readiness writes are done (tests). */
  async settle(): Promise<void> {
    await this.controllerLoop.idle();
    await this.statusWriter.idle();
    await this.controller.idle();
    await this.statusCache.idle();
    await this.revisionFloor.idle();
    await this.controller.idle();
  }

  get caCertPem(): string | undefined {
    return this.opts.caCertPem;
  }

  /** The clock's time as a Date, for the records that carry timestamps. */
  private date(): Date {
    return new Date(this.clock.now());
  }

  get adminToken(): string {
    return this.currentAdminToken;
  }

  /* ------------------------------------------------------------ resources */

  async apply(body: unknown): Promise<ApplyResult> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'expected {"resources": [...]}');
    const resources = (body as { resources?: unknown }).resources;
    return this.mutex.run(() => applyResources(this.opts.store, resources, this.date(), { ...(this.opts.hostPathRoots ? { hostPathRoots: this.opts.hostPathRoots } : {}) }));
  }

  /**
   * The whole store as a backup file (src/store/backup.ts), from one consistent snapshot taken
   * without pausing writers: `grove server backup` fetches it through GET /v1/backup.
   */
  async backup(): Promise<Buffer> {
    const snapshot = await this.opts.store.snapshot();
    return encodeBackup(snapshot, { cluster: this.cluster, createdAt: this.date() });
  }

  async delete(kind: DeletableKind, name: string): Promise<{ revision: number }> {
    return { revision: await this.mutex.run(() => deleteResource(this.opts.store, kind, name)) };
  }

  async listApps(): Promise<(App & { pods: AppSummary })[]> {
    const pods = await this.listPods({});
    return (await listResources<App>(this.opts.store, 'App')).map((app) => ({ ...app, pods: appSummary(app, pods) }));
  }

  /** `daemonSetNote`: why a DaemonSet runs on fewer nodes than it matches (absent when it does not). */
  async getApp(name: string): Promise<App & { pods: AppSummary; podList: PodView[]; deferred: DeferredView[]; daemonSetNote?: string }> {
    const app = await getResource<App>(this.opts.store, 'App', name);
    const pods = await this.listPods({ app: name });
    const placed = pods.flatMap((p) => (p.node !== undefined ? [p.node] : []));
    const nodes = [...new Set(placed)].map((node) => ({ name: node, live: this.statusCache.view(node) }));
    const note = app.spec.kind === 'DaemonSet' ? this.controller.daemonSetNote(name) : undefined;
    return { ...app, pods: appSummary(app, pods), podList: pods, deferred: appDeferred(name, nodes), ...(note !== undefined ? { daemonSetNote: note } : {}) };
  }

  /* -------------------------------------------------------------- rollouts */

  private get rolloutDeps(): RolloutDeps {
    return { store: this.opts.store, mutex: this.mutex, now: () => this.date(), progress: (app) => this.controller.rolloutProgress(app) };
  }

  rolloutStatus(name: string): Promise<RolloutStatusView> {
    return rolloutStatus(this.rolloutDeps, name);
  }

  rolloutHistory(name: string): Promise<RevisionView[]> {
    return rolloutHistory(this.rolloutDeps, name);
  }

  rolloutUndo(name: string, body: unknown): Promise<{ app: string; toRevision: number }> {
    return rolloutUndo(this.rolloutDeps, name, body);
  }

  rolloutRestart(name: string): Promise<{ app: string; restartedAt: string }> {
    return rolloutRestart(this.rolloutDeps, name);
  }

  listConfigMaps(): Promise<ConfigMap[]> {
    return listResources<ConfigMap>(this.opts.store, 'ConfigMap');
  }

  getConfigMap(name: string): Promise<ConfigMap> {
    return getResource<ConfigMap>(this.opts.store, 'ConfigMap', name);
  }

  async listSecrets(showValues: boolean): Promise<unknown[]> {
    return (await listResources<Secret>(this.opts.store, 'Secret')).map((s) => secretView(s, showValues));
  }

  async getSecret(name: string, showValues: boolean): Promise<unknown> {
    return secretView(await getResource<Secret>(this.opts.store, 'Secret', name), showValues);
  }

  /* ---------------------------------------------------------------- nodes */

  async listNodes(): Promise<NodeDetail[]> {
    const pods = (await this.opts.store.list<PodAssignment>(PREFIX.Pod)).map((e) => e.value);
    const nodes = await this.opts.store.list<StoredNode>(PREFIX.Node);
    return nodes.map((e) => this.detail(e.value, pods));
  }

  async getNode(name: string): Promise<NodeDetail> {
    const record = await getResource<StoredNode>(this.opts.store, 'Node', name);
    const pods = (await this.opts.store.list<PodAssignment>(PREFIX.Pod)).map((e) => e.value);
    return this.detail(record, pods);
  }

  /** Named volumes of one node or of all (asked over MQTT: they live on the nodes). */
  async listVolumes(node?: string): Promise<NodeVolumes[]> {
    return listVolumes(this.rpc, node !== undefined ? [await this.getNode(node)] : await this.listNodes());
  }

  async removeVolume(node: string, name: string): Promise<{ node: string; name: string; removed: true }> {
    return removeVolume(this.rpc, await this.getNode(node), validName(name, 'volume name'));
  }

  async patchNode(name: string, body: unknown): Promise<NodeDetail> {
    await this.mutex.run(() => patchNode(this.opts.store, name, body, this.date()));
    return this.getNode(name);
  }

  async listPods(filter: { app?: string; node?: string }): Promise<PodView[]> {
    // Each pod's revision number by its template hash: mid-rollout old and new pods have one.
    const revisions = indexRevisions(await revisionsOf(this.opts.store, filter.app));
    const pods = (await this.opts.store.list<PodAssignment>(PREFIX.Pod)).map((e) => e.value);
    return pods
      .filter((p) => (filter.app === undefined || p.app === filter.app) && (filter.node === undefined || p.node === filter.node))
      .map((p) => podView(p, revisions.get(p.app)?.get(p.templateHash)?.revision, p.node !== undefined ? this.statusCache.view(p.node) : undefined));
  }

  /* ------------------------------------------------------- tokens and join */

  /** Joins arriving together are written in one synced commit (a join storm is N fsyncs otherwise). */
  private readonly joinBatch = createBatcher<unknown, JoinOutcome>((bodies) => this.mutex.run(() => commitJoinBatch(this.opts.store, bodies, this.date())));

  createToken(body: unknown): Promise<CreatedJoinToken> {
    return this.mutex.run(() => createTokenFromBody(this.opts.store, body, { now: this.date(), caFingerprint: this.opts.caFingerprint }));
  }

  listTokens(): Promise<JoinTokenView[]> {
    return listTokenViews(this.opts.store);
  }

  async revokeToken(id: string): Promise<{ id: string; revoked: true }> {
    const revoked = await this.mutex.run(() => revokeTokenById(this.opts.store, id));
    this.log.info({ tokenId: id }, 'join token revoked');
    return revoked;
  }

  /**
   * Removes a node (nodes.ts deleteNode), cuts its broker session (onNodeDeleted) and clears its
   * retained presence; the controller's next pass clears its target and config and moves its pods.
   */
  async deleteNode(name: string): Promise<{ node: string; deleted: true }> {
    await this.mutex.run(() => deleteNode(this.opts.store, name));
    this.labelNotes.forget(name);
    this.log.warn({ node: name }, 'node deleted: its credentials are revoked');
    // Failures here leave nothing open: without its record the broker refuses the node's next connect.
    await (async () => this.opts.onNodeDeleted?.(name))().catch((err: unknown) => this.log.error({ node: name, err: errorMessage(err) }, 'could not cut the deleted node off the broker'));
    await this.publish(topicsFor(this.cluster, name).presence, Buffer.alloc(0), true).catch((err: unknown) => this.log.warn({ node: name, err: errorMessage(err) }, 'could not clear its retained presence'));
    return { node: name, deleted: true };
  }

  /**
   * A new admin token: persisted first (persistAdminToken writes <data>/server/admin-token and
   * the local client.json), then swapped in, so the old token stops working at once and a crash
   * in between leaves the old one working rather than none.
   */
  async rotateAdminToken(): Promise<{ token: string }> {
    return this.mutex.run(async () => {
      const token = randomBytes(32).toString('hex');
      await this.opts.persistAdminToken?.(token);
      this.currentAdminToken = token;
      this.log.warn('admin token rotated: the previous one no longer works');
      return { token };
    });
  }

  async join(body: unknown): Promise<JoinResponse> {
    const { result, registration, configKey } = await this.joinBatch(body);
    if (this.opts.registerNode) {
      try {
        await this.opts.registerNode(registration);
      } catch (err) {
        throw new GroveError(ErrorCode.Internal, `node ${result.node} joined but could not be registered with the broker: ${errorMessage(err)}`, { cause: err });
      }
    }
    this.log.info({ node: result.node }, 'node joined');
    const urls = this.opts.brokerUrlsForNodes;
    const credentials = this.opts.nodeMqttCredentials ?? { username: result.username, password: result.password };
    return {
      cluster: this.cluster,
      node: result.node,
      mqtt: { url: this.opts.brokerUrlForNodes, ...(urls && urls.length > 1 ? { urls } : {}), ...credentials },
      ...(this.opts.caCertPem ? { caCert: this.opts.caCertPem } : {}),
      configKey: configKey.toString('base64'),
    };
  }

  /** A node that joined before config keys existed asks for its key with its MQTT credentials. */
  nodeConfigKey(name: string, body: unknown): Promise<{ configKey: string }> {
    return this.mutex.run(() => fetchNodeConfigKey(this.opts.store, name, body, this.date()));
  }

  /** Log lines of one pod, or of every pod of an app (logs-api.ts). */
  logs(query: LogsQuery, onLines: (lines: LogLine[]) => void, onError: (pod: string, err: unknown) => void, signal?: AbortSignal): Promise<void> {
    const deps = {
      store: this.opts.store,
      isReady: (node: string) => this.statusCache.isReady(node),
      rpc: this.rpc,
      reported: (node: string, pod: string) => this.statusCache.view(node).status?.pods.find((p) => p.name === pod),
    };
    return streamLogs(deps, query, onLines, onError, signal);
  }

  /* -------------------------------------------------------------- private */

  private detail(record: StoredNode, pods: PodAssignment[]): NodeDetail {
    return nodeDetail(record, this.statusCache.view(record.meta.name), pods, this.controller.targetRevision(record.meta.name));
  }

  private schedulerView(record: StoredNode): NodeView {
    const live = this.statusCache.view(record.meta.name);
    const facts = live.status?.facts;
    const dropped = this.labelNotes.note(record.meta.name, facts?.labels);
    if (dropped) this.log.warn({ node: record.meta.name, labels: dropped }, `labels the node reports about itself must start with ${NODE_LABEL_PREFIX}: ignored`);
    return {
      name: record.meta.name,
      labels: effectiveLabels(record, live),
      cordoned: record.cordoned,
      ready: live.ready,
      ...(live.notReadySince ? { notReadySince: live.notReadySince } : {}),
      ...(facts ? { facts: { arch: facts.arch, memoryAvailableBytes: facts.memoryAvailableBytes } } : {}),
    };
  }

  private onMessage(topic: string, payload: Buffer): void {
    try {
      if (this.statusCache.handleMessage(topic, payload)) return;
      if (this.rpc.handleMessage(topic, payload)) return;
      this.log.debug({ topic }, 'message on an unexpected topic ignored');
    } catch (err) {
      this.log.error({ topic, err: errorMessage(err) }, 'handling an MQTT message failed');
    }
  }

  /**
   * Resolves once the broker has answered a QoS 1 publish (on a topic nobody subscribes to):
   * everything the broker was doing before it read that packet, such as a reload, is done.
   */
  async brokerRoundTrip(): Promise<void> {
    await this.publish(`${TOPIC_ROOT}/${this.cluster}/server/sync`, Buffer.alloc(0), false);
  }

  private async publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client) throw new GroveError(ErrorCode.NodeUnavailable, 'not connected to the MQTT broker');
    await client.publishAsync(topic, payload, { qos: 1, retain });
  }
}
