/**
 * The node agent: keeps the node's containers matching the target the server publishes.
 *
 * Offline first: the last accepted target lives in the agent's own store, and start()
 * reconciles from it before (and regardless of) reaching the broker, so a node that reboots
 * into a dead network still runs its workloads. stop() disconnects but never stops containers:
 * they keep running under their shims while the agent is upgraded or restarted.
 */
import { errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { encodeMessage } from '../../../src/core/wire-codec.js';
import { decodeAnyNodeTarget, type WireNodeTarget } from '../../../src/core/wire-target.js';
import type { WirePodTarget } from '../../../src/core/objects/wire.js';
import type { NodeFacts, NodeUsage } from '../../../src/core/wire-types.js';
import type { Store } from '../../../src/store/store.js';
import { systemClock, type Clock } from '../../../src/core/clock.js';
import type { NodeRuntime } from './node-runtime.js';
import { JobRunner, type CronScheduler } from './jobs/runner.js';
import { Reconciler, type StatusReport } from './reconciler.js';
import type { UpdateLocks } from './update-locks.js';
import type { SyncedConfig } from './synced-config.js';
import { SyncClient, TARGET_KEY, type MqttConnect, type MqttSettings } from './sync-client.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../src/core/network/view.js';
import { NetworkSync } from './network-sync.js';

/** A reconcile running longer than this counts as stuck (slow pulls of big images stay under it). */
export const MAX_RECONCILE_MS = 30 * 60 * 1000;

export interface AgentOptions {
  nodeName: string;
  cluster: string;
  store: Store;
  runtime: NodeRuntime;
  mqtt: MqttSettings;
  connect?: MqttConnect;
  logger: Logger;
  clock?: Clock;
  facts: () => Promise<NodeFacts>;
  /** The node's usage for each status (usage.ts UsageSampler); absent = not reported. */
  usage?: () => Promise<NodeUsage | undefined>;
  heartbeatSeconds?: number;
  /** How often the runtime is polled for exits (default 5 s). */
  pollSeconds?: number;
  /** SIGTERM → SIGKILL grace when a container is removed (default 10 s). */
  stopGraceSeconds?: number;
  /** First delay before restarting an exited container, doubling to 5 min (default 10 s). */
  restartBackoffSeconds?: number;
  reconnectSeconds?: number;
  logFollowSeconds?: number;
  /** The node's update locks (update-locks.ts); without them no app is ever locked. */
  locks?: UpdateLocks;
  /** Lock maximum for apps without grove.io/update-lock-max (default 1 h). */
  lockMaxSeconds?: number;
  /** CronJob schedules (default node-cron); tests fire them by hand. */
  cronScheduler?: CronScheduler;
  /** Sees every status the reconciler reports (hollow nodes time convergence with it). */
  observeStatus?: (report: StatusReport) => void;
  /** The node's ConfigMaps/Secrets (synced-config.ts): fed from the config topic when given. */
  config?: SyncedConfig;
  /** What programs the node from the cluster network view (overlay, service rules, DNS); none by default. */
  networkConsumers?: readonly NetworkViewConsumer[];
}

export class Agent {
  private readonly opts: AgentOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly reconciler: Reconciler;
  private readonly jobs: JobRunner;
  private readonly network: NetworkSync;
  private sync: SyncClient | undefined;
  private stopConfigWatch: (() => void) | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(options: AgentOptions) {
    this.opts = options;
    this.log = options.logger.child({ component: 'agent', node: options.nodeName });
    this.clock = options.clock ?? systemClock();
    this.jobs = new JobRunner({ store: options.store, clock: this.clock, logger: options.logger, ...(options.cronScheduler ? { scheduler: options.cronScheduler } : {}) });
    this.network = new NetworkSync({ cluster: options.cluster, store: options.store, consumers: options.networkConsumers ?? [], clock: this.clock, logger: options.logger });
    this.reconciler = new Reconciler({
      jobs: this.jobs,
      runtime: options.runtime,
      clock: this.clock,
      logger: options.logger,
      onStatus: (report) => {
        options.observeStatus?.(report);
        this.sync?.reportStatus(report);
      },
      ...(options.stopGraceSeconds !== undefined ? { stopGraceSeconds: options.stopGraceSeconds } : {}),
      ...(options.restartBackoffSeconds !== undefined ? { restartBackoffMs: options.restartBackoffSeconds * 1000 } : {}),
      ...(options.pollSeconds !== undefined ? { pollSeconds: options.pollSeconds } : {}),
      ...(options.locks ? { locks: options.locks } : {}),
      ...(options.lockMaxSeconds !== undefined ? { defaultLockMaxSeconds: options.lockMaxSeconds } : {}),
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('an Agent can be started once');
    this.state = 'started';
    const { store } = this.opts;
    await store.open();
    // Before the first reconcile: a Job finished before a restart must not run again.
    await this.reconciler.loadJobRecords();
    // Before the first reconcile: pods started from the stored target need their config offline too.
    await this.opts.config?.load();
    this.stopConfigWatch = this.opts.config?.onChange((changed) => void this.reconciler.configChanged(changed));
    // The last-known network view first: routes, service rules and DNS before anything else.
    await this.network.start();
    const saved = await this.loadTarget();
    // Not awaited: pulling images may take minutes and the server should see us meanwhile.
    if (saved) {
      this.network.noteTarget(saved);
      void this.reconciler.setTarget({ revision: saved.revision, pods: saved.pods });
    }
    this.reconciler.start();
    this.sync = new SyncClient({
      cluster: this.opts.cluster,
      node: this.opts.nodeName,
      mqtt: this.opts.mqtt,
      ...(this.opts.connect ? { connect: this.opts.connect } : {}),
      store,
      runtime: this.opts.runtime,
      clock: this.clock,
      logger: this.opts.logger,
      facts: this.opts.facts,
      ...(this.opts.usage ? { usage: this.opts.usage } : {}),
      appliedRevision: saved?.revision ?? 0,
      // Not awaited either: the reconciler coalesces, so a newer target arriving while a
      // reconcile runs is picked up by the one queued run.
      onTarget: (target) => {
        this.network.noteTarget(target);
        void this.reconciler.setTarget({ revision: target.revision, pods: target.pods });
      },
      ...(this.opts.config ? { onConfig: (payload: Buffer) => this.opts.config!.handle(payload) } : {}),
      onNetwork: (topic, payload) => this.network.handle(topic, payload),
      ...(this.opts.heartbeatSeconds !== undefined ? { heartbeatSeconds: this.opts.heartbeatSeconds } : {}),
      ...(this.opts.reconnectSeconds !== undefined ? { reconnectSeconds: this.opts.reconnectSeconds } : {}),
      ...(this.opts.logFollowSeconds !== undefined ? { logFollowSeconds: this.opts.logFollowSeconds } : {}),
    });
    const latest = this.reconciler.status();
    if (latest) this.sync.reportStatus(latest);
    this.sync.start();
    this.log.info({ revision: saved?.revision ?? 0, runId: this.sync.runId }, 'agent started');
  }

  async stop(): Promise<void> {
    this.stopConfigWatch?.();
    if (this.state !== 'started') return;
    this.state = 'stopped';
    await this.sync?.stop().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'disconnect failed'));
    await this.network.stop();
    await this.reconciler.stop();
    await this.opts.store.close();
    this.log.info('agent stopped (containers keep running)');
  }

  /** Reconciles now and resolves when done (tests, and `grove agent` on SIGHUP). */
  reconcileNow(): Promise<void> {
    return this.reconciler.trigger('manual');
  }

  /** Resolves once no reconcile is running or queued. */
  idle(): Promise<void> {
    return this.reconciler.idle();
  }

  /**
   * False when the reconcile loop is stuck: one run has been going for longer than any image
   * pull or stop grace should take. systemd's watchdog keepalives are withheld then.
   */
  healthy(maxReconcileMs = MAX_RECONCILE_MS): boolean {
    return this.state === 'started' && this.reconciler.busyForMs() < maxReconcileMs;
  }

  /** The cluster network view the consumers last got (undefined before any). */
  networkView(): ClusterNetworkView | undefined {
    return this.network.view();
  }

  status(): StatusReport | undefined {
    return this.reconciler.status();
  }

  /** The pods this node is to run, as the last target said (none before any). */
  targetPods(): readonly WirePodTarget[] {
    return this.reconciler.target()?.pods ?? [];
  }

  get connected(): boolean {
    return this.sync?.connected ?? false;
  }

  appliedRevision(): number {
    return this.sync?.appliedRevision() ?? this.reconciler.target()?.revision ?? 0;
  }

  /**
   * The persisted target, re-validated (checksum included) so a damaged store cannot inject pods.
   * A schema-1 target (stored by a 0.1 agent) is converted to schema 2 here, in memory: the
   * store keeps it until the server's next target replaces it, and nothing it runs restarts.
   */
  private async loadTarget(): Promise<WireNodeTarget | undefined> {
    try {
      const entry = await this.opts.store.get<WireNodeTarget>(TARGET_KEY);
      if (!entry) return undefined;
      const target = decodeAnyNodeTarget(encodeMessage(entry.value as object));
      if (target.cluster !== this.opts.cluster || target.node !== this.opts.nodeName) {
        this.log.warn({ cluster: target.cluster, node: target.node }, 'stored target is for another node, ignored');
        return undefined;
      }
      return target;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'stored target unreadable, waiting for the server');
      return undefined;
    }
  }
}
