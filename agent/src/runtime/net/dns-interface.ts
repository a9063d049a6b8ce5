/**
 * The node-local address of the cluster DNS (169.254.20.10 by default, as NodeLocal DNSCache):
 * a /32 on a dummy interface of its own, `grvd-<tag>`, so the DNS server binds that one address
 * and port 53 of every other address on the host stays free (systemd-resolved, dnsmasq keep
 * theirs). Pods reach it through their default route to the node. Made in one `ip -batch`
 * transaction, only what is missing (nothing is written when it is already right). A kernel
 * built without the dummy driver (CONFIG_DUMMY; some minimal VM kernels) gets a bridge without
 * ports instead: it holds a local address just as well.
 */
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { runCommand } from '../run-command.js';
import { runBatch } from './batch-command.js';

/** `grvd-<tag>`: within IFNAMSIZ (15). */
export function dnsInterfaceName(tag: string): string {
  return `grvd-${tag}`;
}

interface LinkState {
  addresses: string[];
  up: boolean;
}

async function linkState(name: string, ipPath: string): Promise<LinkState | undefined> {
  const shown = await runCommand(ipPath, ['-o', '-4', 'addr', 'show', 'dev', name], { timeoutMs: 10_000 });
  if (shown.exitCode !== 0) return undefined;
  const link = await runCommand(ipPath, ['-o', 'link', 'show', 'dev', name], { timeoutMs: 10_000 });
  const addresses = [...shown.output.matchAll(/\binet (\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1]!);
  return { addresses, up: /<[^>]*\bUP\b[^>]*>/.test(link.output) };
}

/** Makes `name` a dummy interface holding exactly `address`/32, up. */
export async function ensureDnsInterface(name: string, address: string, ipPath = 'ip'): Promise<void> {
  const state = await linkState(name, ipPath);
  const want = `${address}/32`;
  const lines: string[] = [];
  for (const other of state?.addresses ?? []) if (other !== want) lines.push(`addr del ${other} dev ${name}`);
  if (!state?.addresses.includes(want)) lines.push(`addr add ${want} dev ${name}`);
  if (!state?.up) lines.push(`link set ${name} up`);
  if (lines.length === 0) return;
  const transaction = (type?: string): Promise<void> => runBatch('ip', [...(type ? [`link add ${name} type ${type}`] : []), ...lines, ''].join('\n'), { path: ipPath });
  const noDummyDriver = (err: unknown): boolean => err instanceof GroveError && /Unknown device type/i.test(String(err.details.output ?? ''));
  try {
    if (state) await transaction();
    else await transaction('dummy').catch((err: unknown) => (noDummyDriver(err) ? transaction('bridge') : Promise.reject(err)));
  } catch (err) {
    throw new GroveError(ErrorCode.RuntimeFailed, `could not put the cluster DNS address ${address} on interface ${name}`, { cause: err });
  }
}

/** Removes the interface (and with it the address); absent is fine. */
export async function removeDnsInterface(name: string, ipPath = 'ip'): Promise<void> {
  if (!(await linkState(name, ipPath))) return;
  await runBatch('ip', `link del ${name}\n`, { path: ipPath });
}
