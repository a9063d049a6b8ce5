/**
 * The node's compose network isolation (a NetworkViewConsumer; rules from compose-isolation.ts):
 * with every view, and whenever the node's pods change (podsChanged), the GRV-<tag>-CNET chain
 * is rewritten in ONE iptables-restore --noflush transaction (the chain, and its jump from
 * FORWARD when the host lacks it) — only when the text differs from the last one applied, so an
 * unchanged view or pod set runs no process. cleanup() removes the chain and its jump.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { runCommand } from '../run-command.js';
import { runBatch } from './batch-command.js';
import { isolationRemoval, isolationRules, missingIsolationJump, type LocalPod } from './compose-isolation.js';

/** How the programmer reaches the host; tests put fakes in. */
export interface IsolationHost {
  restore(input: string): Promise<void>;
  /** `iptables-save -t mangle` ('' when it cannot be read). */
  save(): Promise<string>;
}

export interface ComposeIsolationOptions {
  /** netTag(dataDir). */
  tag: string;
  /** The pods running on this node now, with their addresses, labels and annotations. */
  pods: () => readonly LocalPod[];
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
  /** The chain text last applied; undefined = what the host holds is unknown (read it first). */
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
    if (!this.view) return;
    const rules = isolationRules(this.opts.tag, this.view, this.opts.pods());
    if (rules === this.applied) return;
    // The first time (or after a failure) the jump may be missing: added in the same transaction,
    // after the chain it names.
    const jump = this.applied === undefined ? missingIsolationJump(await this.host.save(), this.opts.tag) : '';
    try {
      await this.host.restore(rules + jump);
    } catch (err) {
      this.applied = undefined;
      throw err;
    }
    this.applied = rules;
    this.log.debug({ revision: this.view.revision, bytes: rules.length }, 'compose isolation programmed');
  }
}
