/**
 * Network namespaces wired by CNI plugins: `attach` makes a named namespace
 * (/run/netns/grove-<id>), brings `lo` up and runs the bridge → portmap → firewall chain in it;
 * `detach` runs DEL in reverse with the saved ADD result and deletes the namespace. Results are
 * kept under the data dir so a detach after an agent crash or a reboot still releases the IP
 * and removes the port mappings and firewall rules (`collect` does that for whatever is no
 * longer in use). Nothing half-attached survives a failed attach.
 *
 * The settings may change while the agent runs (`update`): a cluster node learns its pod CIDR
 * and overlay MTU from the network view. Until it has one, attach refuses with NetworkNotReady
 * (the pod waits, as Kubernetes' pods wait for the CNI to be ready). Each attachment records the
 * network config it was made with, so its DEL is right even after the settings moved on.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError, errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import { writeFileAtomic } from '../../../../src/store/durable-file.js';
import { runCommand } from '../run-command.js';
import { loopbackConfig, networkConfig, pluginFailure, pluginInput, podAddress, type CniResult, type NetworkConfigList, type PodNetworkSettings, type PortMapping } from './cni-config.js';

export const DEFAULT_CNI_PATH = ['/usr/lib/cni', '/opt/cni/bin'];
const PLUGIN_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;
const SANDBOX_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export interface NetworkAttachment {
  /** /run/netns/<name>: what the OCI config's network namespace points at. */
  netns: string;
  ip: string;
  gateway?: string;
  ports: PortMapping[];
}

interface SavedAttachment extends NetworkAttachment {
  id: string;
  /** The network config of the ADD (absent in records of earlier releases: the current one is used). */
  config?: NetworkConfigList;
  /** The ADD result of every plugin, in order: DEL gets each one's prevResult. */
  results: unknown[];
}

export interface PodNetworkOptions {
  /** Absent: not known yet (a cluster node waiting for its pod CIDR); attach refuses until `update` gives them. */
  settings: PodNetworkSettings | undefined;
  /** Why there are no settings yet, for the refusal's message. */
  pendingReason?: string;
  /** Where attachments are recorded (e.g. <data>/cni/attachments). */
  stateDir: string;
  logger: Logger;
  cniPath?: string[];
  /** iproute2's ip (default: on PATH). */
  ipPath?: string;
  /** PATH the plugins run with (they call iptables and the like); default the sbin and bin dirs. */
  searchPath?: string;
}

const DEFAULT_SEARCH_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export class PodNetwork {
  private readonly log: Logger;
  private readonly cniPath: string[];
  private config: NetworkConfigList | undefined;
  private pendingReason: string;

  constructor(private readonly opts: PodNetworkOptions) {
    this.log = opts.logger.child({ component: 'cni' });
    this.cniPath = opts.cniPath ?? DEFAULT_CNI_PATH;
    this.config = opts.settings ? networkConfig(opts.settings) : undefined;
    this.pendingReason = opts.pendingReason ?? 'the pod network is not set up yet';
  }

  /** New settings for the next attach (absent: attaches wait, with `pendingReason`); attachments made keep theirs. */
  update(settings: PodNetworkSettings | undefined, pendingReason?: string): void {
    this.config = settings ? networkConfig(settings) : undefined;
    if (pendingReason !== undefined) this.pendingReason = pendingReason;
  }

  /** The pod subnet attaches use now (undefined while waiting). */
  get subnet(): string | undefined {
    const ipam = this.config?.plugins[0]?.ipam as { ranges?: { subnet: string }[][] } | undefined;
    return ipam?.ranges?.[0]?.[0]?.subnet;
  }

  /** Namespace name for a sandbox id (a container or pod id). */
  static netnsName(id: string): string {
    return `grove-${id.slice(0, 24)}`;
  }

  async attach(id: string, ports: readonly PortMapping[]): Promise<NetworkAttachment> {
    if (!SANDBOX_ID.test(id)) throw new GroveError(ErrorCode.InvalidArgument, `invalid network sandbox id "${id}"`);
    const config = this.config;
    if (!config) throw new GroveError(ErrorCode.NetworkNotReady, `network not ready: ${this.pendingReason}`);
    const name = PodNetwork.netnsName(id);
    const netns = `/run/netns/${name}`;
    if (existsSync(netns) || existsSync(this.savedPath(id))) await this.detach(id); // a leftover of a crash
    await this.ip(['netns', 'add', name]);
    const results: unknown[] = [];
    try {
      await this.exec(loopbackConfig(), loopbackConfig().plugins[0]!, 'ADD', id, netns, 'lo', []);
      let prev: unknown;
      for (const plugin of config.plugins) {
        prev = await this.exec(config, plugin, 'ADD', id, netns, 'eth0', ports, prev);
        results.push(prev);
      }
      const address = podAddress(prev as CniResult);
      const attachment: NetworkAttachment = { netns, ...address, ports: [...ports] };
      await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.savedPath(id), JSON.stringify({ id, ...attachment, config, results } satisfies SavedAttachment), 0o600);
      this.log.debug({ id, ip: address.ip, ports: ports.length }, 'network attached');
      return attachment;
    } catch (err) {
      await this.del(config, id, netns, ports, results).catch(() => undefined);
      await this.ip(['netns', 'delete', name]).catch(() => undefined);
      throw err;
    }
  }

  /** Undoes attach; safe to call twice, after a crash, or when the namespace is already gone. */
  async detach(id: string): Promise<void> {
    const saved = await this.saved(id);
    const netns = `/run/netns/${PodNetwork.netnsName(id)}`;
    const config = saved?.config ?? this.config;
    if (config) await this.del(config, id, netns, saved?.ports ?? [], saved?.results ?? []);
    if (existsSync(netns)) await this.ip(['netns', 'delete', PodNetwork.netnsName(id)]);
    await rm(this.savedPath(id), { force: true });
  }

  /** Detaches every recorded attachment whose id is not in `inUse` (after a crash or reboot). */
  async collect(inUse: ReadonlySet<string>): Promise<string[]> {
    let files: string[];
    try {
      files = await readdir(this.opts.stateDir);
    } catch {
      return [];
    }
    const stale = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((id) => !inUse.has(id));
    for (const id of stale) {
      await this.detach(id).catch((err: unknown) => this.log.warn({ id, err: errorMessage(err) }, 'could not clean up a stale network attachment'));
    }
    return stale;
  }

  /** DEL through every plugin in reverse; each failure is logged, the rest still run. */
  private async del(config: NetworkConfigList, id: string, netns: string, ports: readonly PortMapping[], results: readonly unknown[]): Promise<void> {
    const plugins = config.plugins;
    let firstError: unknown;
    for (let i = plugins.length - 1; i >= 0; i--) {
      const prev = i > 0 ? results[i - 1] : undefined;
      const own = results[i];
      try {
        await this.exec(config, plugins[i]!, 'DEL', id, netns, 'eth0', ports, own ?? prev);
      } catch (err) {
        firstError ??= err;
        this.log.warn({ id, plugin: plugins[i]!.type, err: errorMessage(err) }, 'CNI DEL failed');
      }
    }
    if (firstError && existsSync(netns)) throw firstError;
  }

  private async exec(list: NetworkConfigList, plugin: NetworkConfigList['plugins'][number], command: 'ADD' | 'DEL', id: string, netns: string, ifname: string, ports: readonly PortMapping[], prev?: unknown): Promise<unknown> {
    const binary = this.cniPath.map((dir) => join(dir, plugin.type)).find((p) => existsSync(p));
    if (!binary) throw new GroveError(ErrorCode.RuntimeNotFound, `CNI plugin "${plugin.type}" not found in ${this.cniPath.join(':')} (install containernetworking-plugins)`);
    const env = { PATH: this.opts.searchPath ?? DEFAULT_SEARCH_PATH, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: ifname, CNI_PATH: this.cniPath.join(':') };
    const stdin = JSON.stringify(pluginInput(list, plugin, ports, prev));
    const { code, stdout, stderr } = await execWithInput(binary, env, stdin);
    if (code !== 0) throw pluginFailure(plugin.type, command, stdout || stderr, code);
    if (command === 'DEL' || stdout.trim() === '') return undefined;
    try {
      return JSON.parse(stdout) as unknown;
    } catch (err) {
      throw new GroveError(ErrorCode.RuntimeFailed, `CNI ${plugin.type} ADD printed no JSON result`, { cause: err });
    }
  }

  private async ip(args: string[]): Promise<void> {
    const r = await runCommand(this.opts.ipPath ?? 'ip', args, { timeoutMs: 10_000 });
    if (r.exitCode !== 0) throw new GroveError(ErrorCode.RuntimeFailed, `ip ${args.join(' ')} failed: ${r.output.trim()}`);
  }

  private savedPath(id: string): string {
    return join(this.opts.stateDir, `${id}.json`);
  }

  private async saved(id: string): Promise<SavedAttachment | undefined> {
    try {
      return JSON.parse(await readFile(this.savedPath(id), 'utf8')) as SavedAttachment;
    } catch {
      return undefined;
    }
  }
}

function execWithInput(path: string, env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), PLUGIN_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A plugin that exits without reading its config (a broken or foreign binary) must not
    // crash the agent with an unhandled EPIPE: its exit code reports the failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
