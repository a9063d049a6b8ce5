/**
 * The node's compose network isolation (a NetworkViewConsumer; rules from compose-isolation.ts):
 * with every view, and whenever the node's pods change (podsChanged), the GRV-<tag>-CNET chain
 * is rewritten in ONE iptables-restore --noflush transaction (the chain, and its jump from
 * FORWARD when the host lacks it) — only when the rules differ from the last ones applied, so an
 * unchanged view or pod set runs no process. While no pod needs isolation the node has neither
 * chain nor jump (a node without compose networks never gets them). cleanup() removes both.
 * resync() (NetworkSync's period, as the proxier's) reads the mangle table once and programs
 * the chain again when a flush or an edit changed it behind the agent's back.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { runCommand } from '../run-command.js';
import { runBatch } from './batch-command.js';
import { internalReach, isolationDrift, isolationProgram, isolationRemoval, isolationRules, type LocalPod } from './compose-isolation.js';

/** How the programmer reaches the host; tests put fakes in. */
export interface IsolationHost {
  restore(input: string): Promise<void>;
  /** `iptables-save -t mangle` ('' when it cannot be read). */
  save(): Promise<string>;
}

export interface ComposeIsolationOptions {
  /** netTag(dataDir). */
  tag: string;
  /**
   * The pods running on this node now, with their addresses, labels and annotations; undefined
   * while the agent does not know them yet (before its first round after a start): the chain on
   * the host is then left as it is, rather than opened until the pods report again.
   */
  pods: () => readonly LocalPod[] | undefined;
  /** config.json's podSubnet: where internal-only pods may connect on a cluster without a pod network (backend none). */
  localPodSubnet?: string;
  logger: Logger;
  host?: Partial<IsolationHost>;
}

function defaultHost(): IsolationHost {
  return {
    restore: (input) => runBatch('iptables-restore', input),
    save: async () => {
      const r = await runCommand('iptables-save', ['-t', 'mangle'], { timeoutMs: 30_000, maxOutput: 16 * 1024 * 1024 });
      return r.exitCode === 0 ? r.output : '';
    },
  };
}

export class ComposeIsolation implements NetworkViewConsumer {
  private readonly host: IsolationHost;
  private readonly log: Logger;
  private view: ClusterNetworkView | undefined;
  /**
   * The rules last applied ('' = the host has no chain of ours); undefined = what the host holds
   * is unknown (an earlier run's chain, or a failed restore): read it first.
   */
  private applied: string | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ComposeIsolationOptions) {
    this.host = { ...defaultHost(), ...opts.host };
    this.log = opts.logger.child({ component: 'compose-isolation' });
  }

  update(view: ClusterNetworkView): Promise<void> {
    this.view = view;
    return this.serialize(() => this.apply());
  }

  /** The node's pods (or their addresses) changed: reprogram from the last view. */
  podsChanged(): Promise<void> {
    return this.serialize(() => this.apply());
  }

  /**
   * One iptables-save: when the chain, its jump or its rules are not what was last applied (a
   * firewall reload, `iptables -t mangle -F`), everything is written again from the last view
   * and pods, with a warning; otherwise nothing runs. Nothing is checked while the node has no
   * chain of ours or what the host holds is unknown (the next apply reads it anyway).
   */
  resync(): Promise<void> {
    return this.serialize(async () => {
      const applied = this.applied;
      if (!this.view || !applied) return;
      const drift = isolationDrift(await this.host.save(), this.opts.tag, applied.split('\n'));
      if (!drift) return;
      this.log.warn({ drift }, 'compose isolation rules changed on the host (tables flushed?): programming them again');
      this.applied = undefined;
      await this.apply();
    });
  }

  cleanup(): Promise<void> {
    return this.serialize(async () => {
      const removal = isolationRemoval(await this.host.save(), this.opts.tag);
      this.applied = undefined;
      if (removal) await this.host.restore(removal);
    });
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(): Promise<void> {
    const pods = this.opts.pods();
    if (!this.view || !pods) return;
    const lines = isolationRules(this.opts.tag, this.view, pods, internalReach(this.view, this.opts.localPodSubnet));
    const rules = lines.join('\n');
    if (rules === this.applied) return;
    // While the chain is known to be in place the rules go straight in; otherwise (first time,
    // after a failure, or the chain comes or goes) what the host holds decides the transaction.
    const saved = this.applied ? undefined : await this.host.save();
    const input = lines.length > 0 ? isolationProgram(this.opts.tag, lines, saved) : isolationRemoval(saved ?? (await this.host.save()), this.opts.tag);
    this.applied = undefined;
    if (input) await this.host.restore(input);
    this.applied = rules;
    this.log.debug({ revision: this.view.revision, rules: lines.length }, 'compose isolation programmed');
  }
}
