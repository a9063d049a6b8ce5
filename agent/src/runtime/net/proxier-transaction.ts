/**
 * PURE: turns the proxier's desired rule set and what the host holds now into ONE
 * `iptables-restore --noflush` input (docs/networking.md "Service proxy"):
 *   - every chain of ours is declared, which flushes it, then refilled: a full rewrite per change;
 *   - chains of ours that are no longer wanted are declared (flushed) too and deleted with `-X`
 *     at the end of their table, once nothing refers to them any more;
 *   - the jumps from built-in chains are inserted only when the host lacks them (with --noflush
 *     a jump is never flushed, and a `-D` of an absent rule would fail the whole transaction).
 * What the host holds is read with iptables-save (parseHostRules); only lines of our tag count.
 */
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
  const host = emptyHostRules();
  let table: ProxyTable | undefined;
  for (const line of saveOutput.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = (PROXY_TABLES as readonly string[]).includes(name) ? (name as ProxyTable) : undefined;
    } else if (table !== undefined) {
      parseLine(line, prefix, host[table]);
    }
  }
  return host;
}

function parseLine(line: string, prefix: string, into: HostRules[ProxyTable]): void {
  if (line.startsWith(`:${prefix}`)) {
    into.chains.push(line.slice(1).split(' ')[0]!);
    return;
  }
  const rule = /^-A (\S+) (.*-j (\S+).*)$/.exec(line);
  if (rule && !rule[1]!.startsWith(prefix) && rule[3]!.startsWith(prefix)) into.jumps.push({ chain: rule[1]!, spec: rule[2]!, target: rule[3]! });
}

function hasJump(host: HostRules, jump: ProxyJump): boolean {
  return host[jump.table].jumps.some((j) => j.chain === jump.chain && j.target === jump.target);
}

/** Canonical text of the desired rule set: what the proxier compares to skip an unchanged update. */
export function renderRuleSet(set: ProxyRuleSet): string {
  return PROXY_TABLES.map((t) => [`*${t}`, ...set[t].chains.map((c) => `:${c} - [0:0]`), ...set[t].rules, 'COMMIT'].join('\n')).join('\n') + '\n';
}

/** The transaction that makes the host hold exactly `set` (plus the jumps into it). */
export function renderApply(set: ProxyRuleSet, host: HostRules, tag: string): string {
  const jumps = proxyJumps(tag);
  const out: string[] = [];
  for (const table of PROXY_TABLES) {
    const wanted = new Set(set[table].chains);
    const stale = host[table].chains.filter((c) => !wanted.has(c)).sort();
    // Inserted at the head in reverse, so they end up in proxyJumps' order.
    const missing = jumps.filter((j) => j.table === table && !hasJump(host, j)).reverse();
    out.push(
      `*${table}`,
      ...[...set[table].chains, ...stale].map((c) => `:${c} - [0:0]`),
      ...missing.map((j) => `-I ${j.chain} ${j.spec}`),
      ...set[table].rules,
      ...stale.map((c) => `-X ${c}`),
      'COMMIT',
    );
  }
  return out.join('\n') + '\n';
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
