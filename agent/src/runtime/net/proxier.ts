/**
 * The node's service proxy (issue 15, docs/networking.md "Service proxy"): a NetworkViewConsumer
 * that programs the rule set of proxier-rules.ts in ONE iptables-restore transaction per change,
 * rewriting only the chains that changed, and runs nothing when the rules come out the same (an
 * unchanged view costs no process). The host's tables are read once (at the first update, and
 * again after a failed transaction, when what the host holds is unknown); after that the proxier
 * knows what it left there.
 */
import type { Logger } from '../../../../src/core/logger.js';
import type { ClusterNetworkView, NetworkViewConsumer } from '../../../../src/core/network/view.js';
import { runBatch } from './batch-command.js';
import { staleUdpFlows } from './proxier-conntrack.js';
import { ensureProxySysctls, readHostRules, runConntrack } from './proxier-host.js';
import { buildProxyRules, type ProxySelf } from './proxier-rules.js';
import { chainDigests, hostAfterApply, renderApply, renderCleanup, type ChainDigests, type HostRules } from './proxier-transaction.js';

/** How the proxier reaches the host; the defaults run the real tools, tests put fakes or wrappers in. */
export interface ProxierHost {
  restore(input: string): Promise<void>;
  readRules(tag: string): Promise<HostRules>;
  conntrack(args: readonly string[]): Promise<void>;
  sysctls(): Promise<void>;
}

export interface ServiceProxierOptions extends ProxySelf {
  logger: Logger;
  host?: Partial<ProxierHost>;
}

export function defaultProxierHost(): ProxierHost {
  return {
    restore: (input) => runBatch('iptables-restore', input),
    readRules: (tag) => readHostRules(tag),
    conntrack: (args) => runConntrack(args),
    sysctls: () => ensureProxySysctls(),
  };
}

export class ServiceProxier implements NetworkViewConsumer {
  private readonly host: ProxierHost;
  private readonly self: ProxySelf;
  private readonly log: Logger;
  /** What the host holds of our tag; undefined = unknown, read before the next transaction. */
  private hostRules: HostRules | undefined;
  /** Digests of the last rule set the host took (while hostRules is known), and the view it came from. */
  private applied: ChainDigests | undefined;
  private appliedView: ClusterNetworkView | undefined;
  private sysctlsDone = false;
  private conntrackMissingLogged = false;
  /** update() and cleanup() run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ServiceProxierOptions) {
    this.self = { nodeName: options.nodeName, addresses: [...options.addresses], tag: options.tag };
    this.host = { ...defaultProxierHost(), ...options.host };
    this.log = options.logger.child({ component: 'service-proxier' });
  }

  update(view: ClusterNetworkView): Promise<void> {
    return this.serialize(() => this.apply(view));
  }

  /**
   * One `iptables-save` read: when a chain or jump of the last transaction is gone (tables
   * flushed by a firewall reload), everything is written again from the last view; otherwise
   * nothing more runs.
   */
  resync(): Promise<void> {
    return this.serialize(async () => {
      // Nothing programmed yet, or the host unknown after a failure (NetworkSync retries that).
      if (this.appliedView === undefined || this.hostRules === undefined) return;
      const host = await this.host.readRules(this.self.tag);
      const missing = missingFrom(host, this.hostRules);
      if (missing.length === 0) return;
      this.log.warn({ missing: missing.slice(0, 5), count: missing.length }, 'service rules gone from the host (tables flushed?): programming them again');
      this.hostRules = host;
      this.applied = undefined;
      await this.apply(this.appliedView);
    });
  }

  cleanup(): Promise<void> {
    return this.serialize(async () => {
      const text = renderCleanup(await this.host.readRules(this.self.tag));
      this.hostRules = undefined;
      this.applied = undefined;
      this.appliedView = undefined;
      await this.host.restore(text);
    });
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(view: ClusterNetworkView): Promise<void> {
    if (!this.sysctlsDone) {
      this.sysctlsDone = true;
      // Not fatal: the rules still serve most traffic (a host without br_netfilter only breaks
      // pod→service→pod on one bridge), and refusing to program them would break all of it.
      await this.host.sysctls().catch((err: unknown) => this.log.warn({ err }, 'service proxier kernel settings not applied'));
    }
    const set = buildProxyRules(view, this.self);
    if (this.hostRules === undefined) {
      this.hostRules = await this.host.readRules(this.self.tag);
      this.applied = undefined;
    }
    const text = renderApply(set, this.hostRules, this.self.tag, this.applied);
    const previous = this.appliedView;
    if (text === '') {
      this.appliedView = view;
      return;
    }
    try {
      await this.host.restore(text);
    } catch (err) {
      // A failed transaction may have left part of it (iptables-legacy commits table by table).
      this.hostRules = undefined;
      this.applied = undefined;
      throw err;
    }
    this.hostRules = hostAfterApply(set, this.self.tag);
    this.applied = chainDigests(set);
    this.appliedView = view;
    this.log.debug({ revision: view.revision, bytes: text.length }, 'service rules programmed');
    if (previous !== undefined) await this.flushStaleUdp(previous, view);
  }

  /** Best effort: the rules are in place; a stale UDP flow only delays its client's switch to a live endpoint. */
  private async flushStaleUdp(previous: ClusterNetworkView, view: ClusterNetworkView): Promise<void> {
    for (const args of staleUdpFlows(previous, view)) {
      try {
        await this.host.conntrack(args);
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        if (missing && this.conntrackMissingLogged) return;
        this.conntrackMissingLogged ||= missing;
        this.log.warn({ err, args }, missing ? 'conntrack not installed: stale UDP flows to removed endpoints stay until they time out' : 'conntrack delete failed');
        if (missing) return;
      }
    }
  }
}

/** The chains and jumps `expected` has that `host` lacks ("<table> <chain>", "<table> <chain> -> <target>"). */
function missingFrom(host: HostRules, expected: HostRules): string[] {
  const out: string[] = [];
  for (const table of Object.keys(expected) as (keyof HostRules)[]) {
    const chains = new Set(host[table].chains);
    for (const c of expected[table].chains) if (!chains.has(c)) out.push(`${table} ${c}`);
    for (const j of expected[table].jumps) {
      if (!host[table].jumps.some((h) => h.chain === j.chain && h.target === j.target)) out.push(`${table} ${j.chain} -> ${j.target}`);
    }
  }
  return out;
}
