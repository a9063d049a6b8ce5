/**
 * The control plane: one object wiring the object store, the MQTT connection (as user
 * grove-server), the status cache (node reports), the controller loop (groveControllers()), the
 * target publisher and the RPC proxy, and offering the operations the HTTP API exposes. It works the same against the embedded broker and an external one: all it needs is
 * an MQTT URL and the server's credentials.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { createBatcher } from '../core/batcher.js';
import { brokerServer } from '../core/broker-urls.js';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import type { Node } from '../core/objects/cluster.js';
import { TOPIC_ROOT, allNodesTopic, topicsFor } from '../core/topics.js';
import { encodeBackup } from '../store/backup.js';
import type { Store } from '../store/store.js';
import { every, systemClock, type Clock } from '../core/clock.js';
import { Mutex } from './mutex.js';
import { defaultConnect, type MqttConnect } from './mqtt-connect.js';
import { keepSubscribed } from '../core/mqtt-subscribe.js';
import { PACKET_NUMBERS_UNCACHED } from '../core/mqtt-packet-numbers.js';
import type { NodeRegistration } from './nodes.js';
import { createTokenFromBody, listTokenViews, revokeTokenById } from './identity-api.js';
import { RpcProxy, type LogLine } from './rpc-proxy.js';
import { NodeStreams } from './streams/node-streams.js';
import { SERVER_USERNAME } from './security/credentials.js';
import type { CreatedJoinToken, JoinTokenView } from './security/tokens.js';
import { StatusCache } from './status-cache.js';
import { RevisionFloor } from './revision-floor.js';
import { validName } from './request-fields.js';
import { listVolumes, removeVolume, type NodeVolumes } from './volumes-api.js';
import { ConfigDistributor } from './config-distributor.js';
import { fetchNodeConfigKey } from './node-key-api.js';
import { streamLogs, type LogsDeps, type LogsQuery } from './logs-api.js';
import type { MetricsDeps } from './k8s-api/metrics-api.js';
import { ObjectStore } from './objects/object-store.js';
import { ensureBuiltInObjects } from './objects/built-in-objects.js';
import { StatusWriter } from './objects/status-writer.js';
import { NodeReports } from './objects/node-reports.js';
import { NodeRegistry, type NodeJoined } from './objects/node-registry.js';
import { ControllerLoop } from './objects/controller-loop.js';
import { TargetPublisher } from './objects/target-publisher.js';
import { applyObjects, type ApplyReply } from './k8s-api/apply.js';
import { ObjectFeed } from './k8s-api/object-watch-source.js';
import { groveControllers, type Controller as ObjectController } from './controllers/index.js';
import { CIDR_NOT_AVAILABLE } from './controllers/node-ipam.js';
import { RolloutApi } from './objects/rollout-api.js';
import { withLastHeartbeat } from './objects/node-object.js';
import type { AnyObject } from '../core/objects/changes.js';
import { EventStore } from './events/event-store.js';
import { EventSnapshot } from './events/event-snapshot.js';
import { controllerEvents } from './events/controller-events.js';
import type { ClusterCa } from './security/ca.js';
import { createAuthenticator, type Authenticate } from './auth/authenticate.js';
import { deleteUser, listUsers, type UserView } from './auth/users.js';
import { addTokenForUser, createUserFromBody, issueCertificateForUser } from './auth/users-api.js';
import type { IssuedClientCert } from './auth/client-certs.js';
import { networkSettings, type NetworkSettings, type NetworkSettingsInput } from './network/network-settings.js';
import { serviceAllocationHook } from './network/service-allocation.js';
import { NetworkPublisher } from './network/network-publisher.js';

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
  /** The cluster CA with its key (with --tls): signs users' client certificates. */
  ca?: ClusterCa;
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
  /** Fresh object uids (random UUIDs by default). */
  newUid?: () => string;
  /** The controllers the controller loop runs (tests); groveControllers() by default. */
  objectControllers?: readonly ObjectController[];
  /** Random parts of generated object names (tests make them deterministic). */
  randomSuffix?: () => string;
  /**
   * The cluster's network settings (--cluster-cidr, --node-cidr-mask-size, --service-cidr, the overlay, …;
   * network/network-settings.ts), checked at construction; Grove's defaults when absent.
   */
  network?: NetworkSettingsInput;
  /** Bounds of the events kept in memory and of their saves (src/server/events). */
  events?: { maxEvents?: number; maxBytes?: number; ttlMs?: number; snapshotIntervalMs?: number };
}

export interface JoinResponse {
  cluster: string;
  node: string;
  mqtt: { url: string; urls?: string[]; username: string; password: string };
  caCert?: string;
  /** base64 of the node's 32-byte config key: decrypts its ConfigMap/Secret bundles. */
  configKey: string;
}

export type { LogsQuery };

export class ControlPlane {
  readonly cluster: string;
  private readonly log: Logger;
  /** The server's time: its pieces and its API read and wait on this one clock. */
  readonly clock: Clock;
  /** Serialises the server's read-modify-write operations (joins, node edits, tokens). */
  private readonly mutex = new Mutex();
  private readonly statusCache: StatusCache;
  private readonly rpc: RpcProxy;
  /** exec and port-forward sessions with nodes, over their rpc topics (streams/node-streams.ts). */
  readonly streams: NodeStreams;
  private readonly configs: ConfigDistributor;
  private readonly revisionFloor: RevisionFloor;
  /** Kubernetes objects: the only writer of object keys (src/server/objects/object-store.ts). */
  readonly objects: ObjectStore;
  /** Cluster-wide network settings, checked at construction (a bad range fails the start). */
  readonly network: NetworkSettings;
  /** Object statuses, coalesced into ≤ 1 commit per second (src/server/objects/status-writer.ts). */
  readonly statusWriter: StatusWriter;
  private readonly nodeReports: NodeReports;
  private readonly nodes: NodeRegistry;
  private readonly controllerLoop: ControllerLoop;
  private readonly targets: TargetPublisher;
  /** The cluster network view every node programs from (network/network-publisher.ts). */
  private readonly networkPublisher: NetworkPublisher;
  /** `grove rollout …` on Deployments and DaemonSets (objects/rollout-api.ts). */
  readonly rollouts: RolloutApi;
  /** core/v1 Events, bounded in memory (events/event-store.ts); saved within a flash budget. */
  readonly events: EventStore;
  private readonly eventSnapshot: EventSnapshot;
  /** Object changes for the API's lists and watches (k8s-api/object-watch-source.ts). */
  readonly objectFeed: ObjectFeed;
  private client: MqttClient | undefined;
  private stopSweep: (() => void) | undefined;
  private currentAdminToken: string;
  /** Who an API request is from: a user's client certificate, a user token or the admin token (auth/authenticate.ts). */
  readonly authenticate: Authenticate;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.cluster = validName(opts.cluster, 'cluster');
    this.currentAdminToken = opts.adminToken;
    this.authenticate = createAuthenticator({ adminToken: () => this.currentAdminToken, store: opts.store });
    this.log = opts.logger.child({ component: 'control-plane' });
    this.clock = opts.clock ?? systemClock();
    this.network = networkSettings(opts.network);
    this.objects = new ObjectStore({ store: opts.store, clock: this.clock, hooks: [serviceAllocationHook(this.network)], ...(opts.newUid ? { newUid: opts.newUid } : {}) });
    this.objectFeed = new ObjectFeed({ objects: this.objects, clock: this.clock, logger: this.log });
    this.statusWriter = new StatusWriter({ objects: this.objects, clock: this.clock, logger: opts.logger });
    const ev = opts.events ?? {};
    this.events = new EventStore({
      clock: this.clock,
      ...(ev.maxEvents !== undefined ? { maxEvents: ev.maxEvents } : {}),
      ...(ev.maxBytes !== undefined ? { maxBytes: ev.maxBytes } : {}),
      ...(ev.ttlMs !== undefined ? { ttlMs: ev.ttlMs } : {}),
    });
    this.eventSnapshot = new EventSnapshot({ store: opts.store, events: this.events, clock: this.clock, logger: opts.logger, ...(ev.snapshotIntervalMs !== undefined ? { intervalMs: ev.snapshotIntervalMs } : {}) });
    this.nodeReports = new NodeReports(this.objects, this.statusWriter, (events) => this.events.record(events));
    this.nodes = new NodeRegistry(this.objects);
    this.rollouts = new RolloutApi(this.objects, () => this.clock.now());
    this.configs = new ConfigDistributor({ objects: this.objects, cluster: this.cluster, logger: opts.logger, publish: (topic, payload) => this.publish(topic, payload, true) });
    this.targets = new TargetPublisher({
      objects: this.objects,
      cluster: this.cluster,
      logger: opts.logger,
      clock: this.clock,
      configs: this.configs,
      publish: (topic, payload) => this.publish(topic, payload, true),
      controllersIdle: () => this.controllerLoop.idle(),
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    });
    this.networkPublisher = new NetworkPublisher({
      objects: this.objects,
      cluster: this.cluster,
      settings: this.network,
      clock: this.clock,
      logger: opts.logger,
      publish: (topic, payload) => this.publish(topic, payload, true),
    });
    this.controllerLoop = new ControllerLoop({
      objects: this.objects,
      controllers:
        opts.objectControllers ??
        groveControllers({ ...(opts.evictionTimeoutMs !== undefined ? { evictionTimeoutMs: opts.evictionTimeoutMs } : {}), podCidrs: { clusterCIDR: this.network.clusterCIDR.text, nodeMaskSize: this.network.nodeMaskSize } }),
      clock: this.clock,
      logger: opts.logger,
      reports: () => this.statusCache.reports(),
      onCommitted: (controller, snapshot, changes) => {
        const events = controllerEvents(controller, snapshot, changes);
        // A node without a pod network is an operator's problem: say it in the log too.
        for (const e of events) if (e.reason === CIDR_NOT_AVAILABLE) this.log.warn({ node: e.involved.name }, e.message);
        this.events.record(events);
      },
      ...(opts.randomSuffix ? { randomSuffix: opts.randomSuffix } : {}),
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    });
    this.statusCache = new StatusCache({
      store: opts.store,
      cluster: this.cluster,
      logger: opts.logger,
      clock: this.clock,
      ...(opts.nodeGraceMs !== undefined ? { nodeGraceMs: opts.nodeGraceMs } : {}),
      // Readiness, facts and pod reports change what the controllers decide (pod status,
      // scheduling, rollouts): a pass soon.
      onNodeEvent: () => this.controllerLoop.nudge(),
      targetRevision: (node) => this.targets.targetRevision(node),
      onNodeBehind: (node) => this.targets.republishNode(node),
      onNodeRevision: (node, revision) => this.revisionFloor.observe(node, revision),
      reportNode: (node, readiness, facts) => {
        this.nodeReports.report(node, readiness, facts).catch((err: unknown) => this.log.error({ node, err: errorMessage(err) }, 'could not record the node status'));
      },
    });
    this.revisionFloor = new RevisionFloor({
      store: opts.store,
      mutex: this.mutex,
      logger: opts.logger,
      targetRevision: (node) => this.targets.targetRevision(node),
      reissue: (node) => this.targets.reissueNode(node),
      now: () => this.clock.now(),
    });
    this.streams = new NodeStreams({ cluster: this.cluster, logger: opts.logger, publish: (topic, payload) => this.publish(topic, payload, false), clock: this.clock });
    this.rpc = new RpcProxy({
      cluster: this.cluster,
      logger: opts.logger,
      publish: (topic, payload) => this.publish(topic, payload, false),
      clock: this.clock,
      onUnclaimed: (node, response) => this.streams.handle(node, response),
      ...(opts.rpcTimeoutMs !== undefined ? { timeoutMs: opts.rpcTimeoutMs } : {}),
    });
  }

  async start(): Promise<void> {
    this.objectFeed.start();
    for (const made of await ensureBuiltInObjects(this.objects)) this.log.info(`created ${made}`);
    await this.eventSnapshot.start();
    await this.statusCache.start();
    const connect: MqttConnect = this.opts.connect ?? defaultConnect(this.log);
    const client = await connect(this.opts.mqtt.url, {
      username: this.opts.mqtt.username ?? SERVER_USERNAME,
      password: this.opts.mqtt.password,
      clientId: this.opts.mqtt.username ?? SERVER_USERNAME,
      // 3.1.1: what both the embedded broker (aedes) and Mosquitto speak.
      protocolVersion: 4,
      // No 6 MiB cache of packet numbers (src/core/mqtt-packet-numbers.ts).
      ...PACKET_NUMBERS_UNCACHED,
      // Statuses missed while we were away are stale by now; the next heartbeat says it all,
      // and retained presences arrive again on subscribe.
      clean: true,
      reconnectPeriod: 2000,
      // subscribeAll() below on every connect, checking the grants (src/core/mqtt-subscribe.ts).
      resubscribe: false,
      ...((this.opts.mqtt.urls?.length ?? 0) > 1 ? { servers: this.opts.mqtt.urls!.map(brokerServer) } : {}),
      ...(this.opts.mqtt.ca ? { ca: this.opts.mqtt.ca } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
    client.on('offline', () => this.log.warn('MQTT connection lost; reconnecting'));
    // After a reconnect the broker may be a fresh one (restarted, retained messages gone).
    // Started once the first subscription is granted (on this connection or a later one).
    let firstGrant: (() => void) | undefined;
    const subscribed = new Promise<void>((resolve) => (firstGrant = resolve));
    client.on('connect', () => {
      this.log.info('MQTT reconnected; re-publishing targets');
      this.subscribeAll(client, () => firstGrant?.());
      this.targets.republishAll();
      this.networkPublisher.republishAll();
    });
    this.subscribeAll(client, () => firstGrant?.());
    await subscribed;
    this.controllerLoop.start();
    await this.targets.start();
    await this.networkPublisher.start();
    const sweepMs = this.opts.sweepIntervalMs ?? Math.max(100, Math.min(5000, Math.floor(this.statusCache.graceMs / 4)));
    this.stopSweep = every(this.clock, sweepMs, () => void this.statusCache.sweep());
    this.log.info({ cluster: this.cluster, mqtt: this.opts.mqtt.url }, 'control plane started');
  }

  /**
   * Every node's status, presence and RPC responses, at QoS 0: each status is a whole snapshot
   * repeated at the heartbeat, presence is retained, and an RPC stream times out on a missing
   * chunk, so at-most-once loses nothing that matters — and a QoS 0 subscription does not live in
   * a clustered broker's persistent store (NATS keeps one JetStream consumer per QoS 1
   * subscription, and after losing a member it refused or silently dropped them: the server
   * stayed connected and heard no node again).
   */
  private subscribeAll(client: MqttClient, granted: () => void): void {
    const topics = Object.fromEntries((['status', 'presence', 'rpcResponse'] as const).map((t) => [allNodesTopic(this.cluster, t), { qos: 0 as const }]));
    keepSubscribed(client, {
      clock: this.clock,
      topics,
      retryMs: () => 1000,
      current: () => this.client === client,
      onRetry: (err, retryMs) => this.log.warn({ err, retryMs }, 'MQTT subscribe failed, will retry'),
      onGranted: granted,
    });
  }

  async stop(): Promise<void> {
    this.stopSweep?.();
    this.stopSweep = undefined;
    this.rpc.stop();
    this.streams.stop();
    await this.controllerLoop.stop();
    await this.targets.stop();
    await this.networkPublisher.stop();
    await this.statusWriter.stop();
    await this.eventSnapshot.stop();
    this.configs.stop();
    await this.statusCache.stop();
    this.objectFeed.stop();
    await this.revisionFloor.idle();
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'MQTT close failed'));
  }

  /**
   * Resolves when pending passes and writes are done (tests): controller passes, statuses,
   * targets. A pass may cause another (a binding → a target), so this goes round until quiet.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const before = this.opts.store.revision();
      await this.controllerLoop.runOnce();
      await this.statusWriter.idle();
      await this.targets.idle();
      await this.networkPublisher.idle();
      await this.revisionFloor.idle();
      if (this.opts.store.revision() === before) return;
    }
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

  /* -------------------------------------------------------------- objects */

  /** `POST /v1/apply`: `{objects, dryRun?}`, all in one commit (k8s-api/apply.ts). */
  apply(body: unknown): Promise<ApplyReply> {
    return applyObjects(this.objects, body, { ...(this.opts.hostPathRoots ? { hostPathRoots: this.opts.hostPathRoots } : {}) });
  }

  /**
   * The whole store as a backup file (src/store/backup.ts), from one consistent snapshot taken
   * without pausing writers: `grove server backup` fetches it through GET /v1/backup.
   */
  async backup(): Promise<Buffer> {
    const snapshot = await this.opts.store.snapshot();
    return encodeBackup(snapshot, { cluster: this.cluster, createdAt: this.date() });
  }

  /* ---------------------------------------------------------------- nodes */

  private async node(name: string): Promise<Node> {
    const node = await this.objects.get({ kind: 'Node', name: validName(name, 'node name') });
    if (!node) throw new GroveError(ErrorCode.NotFound, `nodes "${name}" not found`, { details: { kind: 'Node', name } });
    return node;
  }

  /** Named volumes of one node or of all (asked over MQTT: they live on the nodes). */
  async listVolumes(node?: string): Promise<NodeVolumes[]> {
    const names = node !== undefined ? [(await this.node(node)).metadata.name] : (await this.objects.list('Node')).items.map((n) => n.metadata.name);
    return listVolumes(
      this.rpc,
      names.map((name) => ({ name, ready: this.statusCache.isReady(name) })),
    );
  }

  async removeVolume(node: string, name: string): Promise<{ node: string; name: string; removed: true }> {
    return removeVolume(this.rpc, (await this.node(node)).metadata.name, validName(name, 'volume name'));
  }

  /** `grove node label|cordon|uncordon`: the Node object afterwards. */
  patchNode(name: string, body: unknown): Promise<Node> {
    return this.mutex.run(() => this.nodes.patch(name, body));
  }

  /* ------------------------------------------------------- tokens and join */

  /** Joins arriving together are written in one synced commit (a join storm is N fsyncs otherwise). */
  private readonly joinBatch = createBatcher<unknown, NodeJoined>((bodies) => this.mutex.run(() => this.nodes.joinBatch(bodies, this.date())));

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
   * Removes a node (its object, credential and config key: NodeRegistry.delete), cuts its broker
   * session (onNodeDeleted) and clears its retained presence; the target publisher clears its
   * target and config, the controllers move its pods.
   */
  async deleteNode(name: string): Promise<{ node: string; deleted: true }> {
    await this.mutex.run(() => this.nodes.delete(name));
    this.nodeReports.forget(name);
    this.log.warn({ node: name }, 'node deleted: its credentials are revoked');
    // Failures here leave nothing open: without its credential the broker refuses the node's next connect.
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

  /* ---------------------------------------------------------------- users */

  /** `grove user create NAME --role R`: the token is in the answer only. */
  createUser(body: unknown): Promise<{ user: UserView; token: string }> {
    return this.mutex.run(() => createUserFromBody(this.opts.store, body, this.date()));
  }

  listUsers(): Promise<UserView[]> {
    return listUsers(this.opts.store);
  }

  /** Deletes a user: its next request, by token or certificate, gets 401. */
  async deleteUser(name: string): Promise<{ name: string; deleted: true }> {
    const deleted = await this.mutex.run(() => deleteUser(this.opts.store, name));
    this.log.info({ user: name }, 'user deleted: its tokens and certificates no longer work');
    return deleted;
  }

  addUserToken(name: string): Promise<{ token: string }> {
    return this.mutex.run(() => addTokenForUser(this.opts.store, name, this.date()));
  }

  issueUserCertificate(name: string, body: unknown): Promise<IssuedClientCert> {
    return this.mutex.run(() => issueCertificateForUser(this.opts.store, this.opts.ca, name, body, this.date()));
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

  /** Whether a node reports in (exec and port-forward reach only those). */
  isNodeReady(node: string): boolean {
    return this.statusCache.isReady(node);
  }

  /** An object as the Kubernetes paths serve it: a Node with its last heartbeat (k8s-api/routes.ts ServedObject). */
  served(object: AnyObject): AnyObject {
    if (object.kind !== 'Node') return object;
    return withLastHeartbeat(object as unknown as Node, this.statusCache.lastReportAt(object.metadata.name)) as unknown as AnyObject;
  }

  /** Where pod logs come from: the pods' nodes over MQTT (logs-api.ts, k8s-api/pod-logs.ts). */
  get logSource(): LogsDeps {
    return {
      objects: this.objects,
      isReady: (node: string) => this.statusCache.isReady(node),
      rpc: this.rpc,
      reported: (node: string, namespace: string, pod: string) => this.statusCache.view(node).status?.pods.find((p) => p.name === pod && (p.namespace ?? 'default') === namespace),
    };
  }

  /** What metrics.k8s.io serves: each Ready node's last usage report, kept in memory (k8s-api/metrics-api.ts). */
  get metricsSource(): MetricsDeps {
    return {
      objects: this.objects,
      now: () => this.clock.now(),
      usage: (node: string) => {
        const view = this.statusCache.view(node);
        const usage = view.status?.usage;
        const at = this.statusCache.lastReportAt(node);
        return view.ready && usage && at !== undefined ? { usage, receivedAt: at } : undefined;
      },
    };
  }

  /** Log lines of one pod, or of every pod of a workload (logs-api.ts). */
  logs(query: LogsQuery, onLines: (lines: LogLine[]) => void, onError: (pod: string, err: unknown) => void, signal?: AbortSignal): Promise<void> {
    return streamLogs(this.logSource, query, onLines, onError, signal);
  }

  /* -------------------------------------------------------------- private */

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
