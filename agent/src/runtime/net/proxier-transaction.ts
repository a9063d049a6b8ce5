/**
 * PURE: turns the proxier's desired rule set and what the host holds now into ONE
 * `iptables-restore --noflush` input (docs/networking.md "Service proxy"):
 *   - a chain is declared, which flushes it, then refilled: all of them when what the host holds
 *     is unknown (first update, after a failure), else only those whose rules changed since the
 *     last transaction (kube-proxy's partial sync: one endpoint's change rewrites a few chains,
 *     not the thousands of a big cluster, which iptables-nft takes seconds for);
 *   - chains of ours that are no longer wanted are declared (flushed) too and deleted with `-X`
 *     at the end of their table, once nothing refers to them any more;
 *   - the jumps from built-in chains are inserted only when the host lacks them (with --noflush
 *     a jump is never flushed, and a `-D` of an absent rule would fail the whole transaction).
 * What the host holds is read with iptables-save (parseHostRules); only lines of our tag count,
 * less the chains other components of the same agent keep under that tag (the pod network's
 * egress chains, the compose isolation chain): never the proxier's to flush or delete.
 */
import { createHash } from 'node:crypto';
import { isolationChain } from './compose-isolation.js';
import { egressNames } from './pod-egress.js';
import { chainPrefix, PROXY_TABLES, proxyJumps, type ProxyJump, type ProxyRuleSet, type ProxyTable } from './proxier-rules.js';

export interface HostJump {
  chain: string;
  target: string;
  /** The arguments after `-A <chain>`, exactly as iptables-save printed them (for `-D`). */
  spec: string;
}

/** What the host's tables hold of one tag. */
export type HostRules = Record<ProxyTable, { chains: string[]; jumps: HostJump[] }>;

export function emptyHostRules(): HostRules {
  return { filter: { chains: [], jumps: [] }, nat: { chains: [], jumps: [] } };
}

/** Picks our chains and the built-in chains' jumps into them out of iptables-save output. */
export function parseHostRules(saveOutput: string, tag: string): HostRules {
  const prefix = chainPrefix(tag);
  const egress = egressNames(tag);
  const others = new Set([egress.nat, egress.filter, isolationChain(tag)]);
  const host = emptyHostRules();
  let table: ProxyTable | undefined;
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = (PROXY_TABLES as readonly string[]).includes(name) ? (name as ProxyTable) : undefined;
    } else if (table !== undefined) {
      parseLine(line, prefix, others, host[table]);
    }
  }
  return host;
}

function parseLine(line: string, prefix: string, others: ReadonlySet<string>, into: HostRules[ProxyTable]): void {
  if (line.startsWith(`:${prefix}`)) {
    const chain = line.slice(1).split(' ')[0]!;
    if (!others.has(chain)) into.chains.push(chain);
    return;
  }
  const rule = /^-A (\S+) (.*-j (\S+).*)$/.exec(line);
  if (rule && !rule[1]!.startsWith(prefix) && rule[3]!.startsWith(prefix) && !others.has(rule[3]!)) into.jumps.push({ chain: rule[1]!, spec: rule[2]!, target: rule[3]! });
}

function hasJump(host: HostRules, jump: ProxyJump): boolean {
  return host[jump.table].jumps.some((j) => j.chain === jump.chain && j.target === jump.target);
}

/** Per table, a digest of each chain's rules: what the proxier keeps of the last transaction (small, unlike the rules). */
export type ChainDigests = Record<ProxyTable, Map<string, string>>;

export function chainDigests(set: ProxyRuleSet): ChainDigests {
  const out = {} as ChainDigests;
  for (const table of PROXY_TABLES) {
    const rules = new Map<string, string[]>(set[table].chains.map((c) => [c, []]));
    for (const rule of set[table].rules) rules.get(ruleChain(rule))?.push(rule);
    out[table] = new Map([...rules].map(([chain, lines]) => [chain, createHash('sha256').update(lines.join('\n')).digest('base64')]));
  }
  return out;
}

function ruleChain(rule: string): string {
  return rule.slice(3, rule.indexOf(' ', 3));
}

/**
 * The transaction that makes the host hold exactly `set` (plus the jumps into it); empty when
 * nothing would change. `previous`: the digests of the set the host took last, when `host` is
 * known to hold exactly that set (then only changed chains are rewritten).
 */
export function renderApply(set: ProxyRuleSet, host: HostRules, tag: string, previous?: ChainDigests): string {
  const jumps = proxyJumps(tag);
  const now = previous === undefined ? undefined : chainDigests(set);
  const out: string[] = [];
  for (const table of PROXY_TABLES) {
    const wanted = new Set(set[table].chains);
    const stale = host[table].chains.filter((c) => !wanted.has(c)).sort();
    const changed = new Set(set[table].chains.filter((c) => previous === undefined || previous[table].get(c) !== now![table].get(c)));
    // Inserted at the head in reverse, so they end up in proxyJumps' order.
    const missing = jumps.filter((j) => j.table === table && !hasJump(host, j)).reverse();
    if (changed.size === 0 && stale.length === 0 && missing.length === 0) continue;
    out.push(
      `*${table}`,
      ...[...changed, ...stale].map((c) => `:${c} - [0:0]`),
      ...missing.map((j) => `-I ${j.chain} ${j.spec}`),
      ...set[table].rules.filter((r) => changed.has(ruleChain(r))),
      ...stale.map((c) => `-X ${c}`),
      'COMMIT',
    );
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/** The transaction that removes every chain and jump of the tag; empty when there is nothing. */
export function renderCleanup(host: HostRules): string {
  const out: string[] = [];
  for (const table of PROXY_TABLES) {
    const { chains, jumps } = host[table];
    if (chains.length === 0 && jumps.length === 0) continue;
    out.push(
      `*${table}`,
      ...chains.map((c) => `:${c} - [0:0]`),
      ...jumps.map((j) => `-D ${j.chain} ${j.spec}`),
      ...chains.map((c) => `-X ${c}`),
      'COMMIT',
    );
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/** What the host holds after `renderApply(set, …)` succeeded. */
export function hostAfterApply(set: ProxyRuleSet, tag: string): HostRules {
  const host = emptyHostRules();
  for (const table of PROXY_TABLES) host[table].chains = [...set[table].chains];
  for (const j of proxyJumps(tag)) host[j.table].jumps.push({ chain: j.chain, target: j.target, spec: j.spec });
  return host;
}
