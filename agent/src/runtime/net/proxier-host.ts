/**
 * The service proxier's contact with the host beside the restore transaction itself: reading
 * what the tables hold of our tag (iptables-save, streamed and filtered so a host with a big rule
 * set costs no big buffer), deleting stale UDP conntrack entries (Debian `conntrack`), and the
 * kernel settings service traffic needs.
 */
import { spawn } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import { runCommand } from '../run-command.js';
import { chainPrefix } from './proxier-rules.js';
import { parseHostRules, type HostRules } from './proxier-transaction.js';

/** Reads our chains and jumps with `iptables-save`; only table headers and lines naming the tag are kept. */
export function readHostRules(tag: string, options: { path?: string; timeoutMs?: number } = {}): Promise<HostRules> {
  const prefix = chainPrefix(tag);
  return new Promise((resolve, reject) => {
    const child = spawn(options.path ?? 'iptables-save', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kept: string[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('*') || line.includes(prefix)) kept.push(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new GroveError(ErrorCode.RuntimeFailed, `iptables-save failed: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(parseHostRules(kept.join('\n'), tag));
      else reject(new GroveError(ErrorCode.RuntimeFailed, `iptables-save failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n')[0] ?? ''}`));
    });
  });
}

/**
 * Runs one `conntrack -D …`. Exit 1 with "0 flow entries" means there was nothing to delete,
 * which is the common case and no error.
 */
export async function runConntrack(args: readonly string[], options: { path?: string } = {}): Promise<void> {
  const result = await runCommand(options.path ?? 'conntrack', args, { timeoutMs: 10_000, maxOutput: 2048 });
  if (result.exitCode === 0 || (result.exitCode === 1 && /0 flow entries/.test(result.output))) return;
  throw new GroveError(ErrorCode.RuntimeFailed, `conntrack ${args.join(' ')} failed: ${result.output.trim().split('\n')[0] ?? 'no output'}`);
}

/**
 * The kernel settings service traffic needs, set once at start, written only when different:
 *   - net.ipv4.ip_forward=1: DNAT-ed traffic is routed to the endpoints;
 *   - net.bridge.bridge-nf-call-iptables=1 (module br_netfilter): a pod reaching a service whose
 *     endpoint is on the same bridge gets the reply bridged straight back; without it that reply
 *     skips conntrack and reaches the client from the pod's address instead of the service's.
 * route_localnet stays off: NodePorts do not answer on 127.0.0.1 (kube-proxy's opt-in, a known
 * security hole), so loopback never needs routing.
 */
export async function ensureProxySysctls(options: { procSys?: string; modprobe?: () => Promise<void> } = {}): Promise<void> {
  const root = options.procSys ?? '/proc/sys';
  const bridgeDir = join(root, 'net', 'bridge');
  if (!(await exists(bridgeDir))) await (options.modprobe ?? modprobeBrNetfilter)();
  await setSysctl(join(root, 'net', 'ipv4', 'ip_forward'), '1');
  await setSysctl(join(bridgeDir, 'bridge-nf-call-iptables'), '1');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function setSysctl(path: string, value: string): Promise<void> {
  try {
    if ((await readFile(path, 'utf8')).trim() === value) return;
    await writeFile(path, value);
  } catch (err) {
    throw new GroveError(ErrorCode.RuntimeFailed, `cannot set ${path} to ${value}: ${(err as Error).message}`, { cause: err });
  }
}

async function modprobeBrNetfilter(): Promise<void> {
  const result = await runCommand('modprobe', ['br_netfilter'], { timeoutMs: 10_000 });
  if (result.exitCode !== 0) throw new GroveError(ErrorCode.RuntimeFailed, `modprobe br_netfilter failed: ${result.output.trim() || `exit ${result.exitCode}`}`);
}
