/**
 * The node's own side of the pod network (a NetworkViewConsumer): with every view, PodNetwork
 * gets this node's pod CIDR (its host-local range), the overlay's MTU and ipMasq off, and the
 * egress chains (pod-egress.ts) are rewritten in one iptables-restore transaction — only when
 * their text changed since the last one this process applied. cleanup() removes the chains.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import type { PodNetwork } from '../cni/pod-network.js';
import { recordNodePodSubnet } from '../cni/node-pod-subnet.js';
import { runCommand } from '../run-command.js';
import { runBatch } from './batch-command.js';
import { podMtu, type UnderlyingLink } from './overlay-plan.js';
import { egressNames, egressRemoval, egressRules, localPodNetwork, missingJumps, podNetworkFor, type EgressNames, type LocalPodNetwork } from './pod-egress.js';

export interface PodNetworkProgrammerOptions {
  nodeName: string;
  /** netTag(dataDir). */
  tag: string;
  network: PodNetwork;
  local: LocalPodNetwork;
  /** The link overlay traffic leaves by (Overlay.underlying), for the MTU. */
  underlying: (view: ClusterNetworkView) => Promise<UnderlyingLink | undefined>;
  logger: Logger;
  /** Where the subnet in use is recorded for `grove ctr` (node-pod-subnet.ts); absent: not recorded. */
  dataDir?: string;
  /** iptables-save / iptables-restore (default: on PATH). */
  iptablesSavePath?: string;
  iptablesRestorePath?: string;
}

export class PodNetworkProgrammer implements NetworkViewConsumer {
  readonly names: EgressNames;
  private readonly log: Logger;
  /** The rule text last applied by this process (a restart applies once again, harmlessly). */
  private applied: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private lastView: ClusterNetworkView | undefined;

  constructor(private readonly opts: PodNetworkProgrammerOptions) {
    this.names = egressNames(opts.tag);
    this.log = opts.logger.child({ component: 'pod-network' });
  }

  update(view: ClusterNetworkView): Promise<void> {
    this.lastView = view;
    const run = this.queue.then(() => this.apply(view));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** An older server publishes no view: pods get the node's own subnet at once (backend none's settings), as before. */
  withoutClusterNetwork(): void {
    if (this.lastView !== undefined) return;
    this.opts.network.update(localPodNetwork(this.opts.local).settings);
    this.log.info({ subnet: this.opts.network.subnet ?? null }, 'pod network settings (no cluster network)');
  }

  /** One iptables-save: when a flush took the egress chains or their jumps, both are written again. */
  resync(): Promise<void> {
    const run = this.queue.then(async () => {
      if (!this.applied || !this.lastView) return; // nothing programmed (backend none, or not yet)
      const saved = await this.save();
      const chainsThere = [this.names.nat, this.names.filter].every((c) => saved.split('\n').some((l) => l.startsWith(`-A ${c} `)));
      if (chainsThere && missingJumps(saved, this.names) === '') return;
      this.log.warn('pod egress rules gone from the host (tables flushed?): programming them again');
      this.applied = undefined;
      await this.apply(this.lastView);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async cleanup(): Promise<void> {
    const run = this.queue.then(async () => {
      const removal = egressRemoval(await this.save(), this.names);
      if (removal) await runBatch('iptables-restore', removal, this.restoreOptions());
      this.applied = undefined;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(view: ClusterNetworkView): Promise<void> {
    const link = view.overlay.backend === 'none' ? undefined : await this.opts.underlying(view);
    const decision = podNetworkFor(view, this.opts.nodeName, this.opts.local, podMtu(view.overlay.backend, link));
    const before = this.opts.network.subnet;
    this.opts.network.update(decision.settings, decision.pending);
    // The cluster's pod network only: with backend none, ctr keeps config.json's subnet as before.
    if (this.opts.dataDir) await recordNodePodSubnet(this.opts.dataDir, decision.egress ? decision.settings : undefined);
    if (before !== this.opts.network.subnet) this.log.info({ subnet: this.opts.network.subnet ?? null, pending: decision.pending }, 'pod network settings');
    if (!decision.egress) {
      if (this.applied !== '') {
        const removal = egressRemoval(await this.save(), this.names);
        if (removal) await runBatch('iptables-restore', removal, this.restoreOptions());
        this.applied = '';
      }
      return;
    }
    const rules = egressRules(this.names, decision.egress);
    if (rules === this.applied) return;
    // Chains first (a jump to a chain that does not exist yet is refused), then the jumps.
    await runBatch('iptables-restore', rules, this.restoreOptions());
    const jumps = missingJumps(await this.save(), this.names);
    if (jumps) await runBatch('iptables-restore', jumps, this.restoreOptions());
    this.applied = rules;
  }

  private restoreOptions(): { path?: string } {
    return this.opts.iptablesRestorePath ? { path: this.opts.iptablesRestorePath } : {};
  }

  private async save(): Promise<string> {
    const r = await runCommand(this.opts.iptablesSavePath ?? 'iptables-save', [], { timeoutMs: 30_000, maxOutput: 16 * 1024 * 1024 });
    return r.exitCode === 0 ? r.output : '';
  }
}
