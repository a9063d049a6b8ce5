/**
 * Pod sandboxes on a real node, without a pause container: per pod, persistent IPC and UTS
 * namespaces (util-linux `unshare --ipc=FILE --uts=FILE`, bind-mounted under the run dir), a
 * network namespace on the node bridge from CNI (PodNetwork: address, outbound NAT, hostPort
 * mappings) or the host's network, and the /etc/hosts and /etc/resolv.conf files bound into
 * every container of the pod. Containers join by path (linux.namespaces[].path).
 *
 * Records live under the data dir and are written BEFORE anything is made, so whatever a crash
 * (kill -9) or a failed create leaves is found again and torn down: CNI DEL with the saved
 * results (lease, veth, iptables rules), namespaces unmounted, files removed. The namespaces
 * live on a tmpfs (/run): after a reboot a record whose namespaces are gone reads as not ready
 * and the agent recreates the sandbox.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError, errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import { checkHostPortsFree, sandboxNetworkKey, type PodSandbox, type SandboxOps, type SandboxRequest } from './sandbox-model.js';
import { hostsFile } from './cni/cni-config.js';
import type { PodNetwork } from './cni/pod-network.js';
import { bridgeResolvConf } from './container-network.js';
import { DEFAULT_CLUSTER_DOMAIN, podResolvConf, type ClusterDnsSettings } from './resolv-conf.js';
import type { BindMount } from './host-access.js';
import { runCommand } from './run-command.js';

export interface PodSandboxesOptions {
  /** Records, one JSON file per sandbox (e.g. <data>/agent/sandboxes). */
  stateDir: string;
  /** Namespace files, hosts and resolv.conf, one directory per sandbox (a tmpfs, e.g. /run/grove/…). */
  runDir: string;
  /** CNI for pods on the bridge; without it such pods fail to create with a clear error. */
  network?: PodNetwork;
  /** The node's cluster DNS; without it pods get the node's resolv.conf (dnsPolicy ClusterFirst then means Default). */
  clusterDns?: ClusterDnsSettings;
  logger: Logger;
  unsharePath?: string;
  umountPath?: string;
}

interface SandboxRecord extends PodSandbox {
  id: string;
  /** The pod's own name (its hostname and /etc/hosts entry); absent in older records = `pod`. */
  hostname?: string;
  /** The network namespace's path (bridge pods, once attached). */
  netns?: string;
  /** A host-network pod with a resolv.conf of its own (ClusterFirstWithHostNet, None, dnsConfig). */
  ownResolvConf?: boolean;
}

/** What a container needs to join its pod's sandbox. */
export interface SandboxJoin {
  namespaces: { network?: string; ipc: string; uts: string };
  hostname: string;
  mounts: BindMount[];
  /** The pod's address on the node bridge (fieldRef status.podIP); absent on the host's network. */
  ip?: string;
}

const RECORD = /^pod-[0-9a-f]{20}\.json$/;
const MAX_RECORD_BYTES = 64 * 1024;

export class PodSandboxes implements SandboxOps {
  private readonly log: Logger;
  private records: Map<string, SandboxRecord> | undefined;

  constructor(private readonly opts: PodSandboxesOptions) {
    this.log = opts.logger.child({ component: 'pod-sandboxes' });
  }

  /**
   * Loads the records and tears down what no record claims: run directories and CNI
   * attachments of sandboxes whose create was cut short before its record was written.
   */
  async init(): Promise<void> {
    const records = await this.load();
    const ids = new Set([...records.values()].map((r) => r.id));
    const dirs = await readdir(this.opts.runDir).catch(() => [] as string[]);
    for (const id of dirs.filter((d) => /^pod-[0-9a-f]{20}$/.test(d) && !ids.has(d))) {
      await this.teardown({ id, hostNetwork: true }).catch((err: unknown) => this.log.warn({ id, err: errorMessage(err) }, 'could not remove a stray sandbox directory'));
    }
    const stale = await this.opts.network?.collect(ids);
    if (stale?.length) this.log.info({ count: stale.length }, 'removed stale pod network attachments');
  }

  async list(): Promise<PodSandbox[]> {
    const records = await this.load();
    return [...records.values()].map((r) => ({ ...this.publicView(r), ready: r.ready && this.namespacesExist(r) }));
  }

  async create(req: SandboxRequest): Promise<PodSandbox> {
    const records = await this.load();
    const others = [...records.values()].filter((r) => r.pod !== req.pod);
    checkHostPortsFree(req, others);
    if (records.has(req.pod)) await this.remove(req.pod);
    if (!req.hostNetwork && !this.opts.network) {
      throw new GroveError(ErrorCode.ConfigInvalid, 'pod networking (CNI bridge) is not set up on this node');
    }
    const id = `pod-${randomBytes(10).toString('hex')}`;
    const ports = req.ports;
    const names = ownHostNames(req, this.opts.clusterDns?.clusterDomain() ?? DEFAULT_CLUSTER_DOMAIN);
    const record: SandboxRecord = {
      id,
      pod: req.pod,
      ...(names.hostname !== req.pod ? { hostname: names.hostname } : {}),
      ...(names.hostNames.length > 1 || names.hostNames[0] !== req.pod ? { hostNames: names.hostNames } : {}),
      app: req.app,
      networkKey: sandboxNetworkKey(req),
      hostNetwork: req.hostNetwork,
      ports: ports.map(({ containerPort: _c, ...p }) => p),
      ...(req.hostAliases?.length ? { hostAliases: req.hostAliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })) } : {}),
      ready: false,
      createdAt: new Date().toISOString(),
    };
    // Recorded first: a crash from here on leaves something the next agent finds and removes.
    await this.save(record);
    try {
      const dir = this.dir(id);
      // The IPC/UTS namespaces and the network are independent: made side by side (each is a few
      // processes), and both finished, made or failed, before a failure tears the sandbox down.
      const [made, attached] = await Promise.allSettled([this.makeNamespaces(dir), req.hostNetwork ? undefined : this.opts.network!.attach(id, ports)]);
      if (made.status === 'rejected') throw made.reason;
      if (attached.status === 'rejected') throw attached.reason;
      if (attached.value) Object.assign(record, { ip: attached.value.ip, netns: attached.value.netns, ...(attached.value.gateway ? { gateway: attached.value.gateway } : {}) });
      const resolv = await this.resolvConf(req);
      if (resolv !== undefined) {
        await writeFile(join(dir, 'resolv.conf'), resolv);
        if (req.hostNetwork) record.ownResolvConf = true;
      }
      await writeFile(join(dir, 'hosts'), hostsFile(names.hostNames.join('\t'), record.ip, [], record.hostAliases));
      record.ready = true;
      await this.save(record);
      this.log.debug({ pod: req.pod, id, ip: record.ip }, 'pod sandbox created');
      return this.publicView(record);
    } catch (err) {
      await this.teardown(record).catch((cleanup: unknown) => this.log.warn({ pod: req.pod, id, err: errorMessage(cleanup) }, 'cleaning up a failed sandbox failed'));
      throw err;
    }
  }

  /** The pod's IPC and UTS namespaces, bind-mounted on files in `dir` by unshare. */
  private async makeNamespaces(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(join(dir, 'ipc'), '');
    await writeFile(join(dir, 'uts'), '');
    const made = await runCommand(this.opts.unsharePath ?? 'unshare', [`--ipc=${join(dir, 'ipc')}`, `--uts=${join(dir, 'uts')}`, 'true'], { timeoutMs: 10_000 });
    if (made.exitCode !== 0) throw new GroveError(ErrorCode.RuntimeFailed, `unshare failed: ${made.output.trim() || `exit ${made.exitCode}`}`);
  }

  async remove(pod: string): Promise<void> {
    const record = (await this.load()).get(pod);
    if (!record) return;
    await this.teardown(record);
    this.log.debug({ pod, id: record.id }, 'pod sandbox removed');
  }

  async writeHosts(files: ReadonlyMap<string, string>): Promise<void> {
    const records = await this.load();
    for (const [pod, content] of files) {
      const r = records.get(pod);
      if (!r?.ready) continue;
      const path = join(this.dir(r.id), 'hosts');
      const old = await readFile(path, 'utf8').catch(() => undefined);
      // In place (same inode): the file is bind-mounted into running containers.
      if (old !== undefined && old !== content) await writeFile(path, content);
    }
  }

  /**
   * The namespaces and files a container of `pod` joins; undefined when the pod has no sandbox
   * at all (the container then gets namespaces of its own). A sandbox that is not ready is an
   * error: a container must never start beside it in namespaces of its own.
   */
  async joinSpec(pod: string): Promise<SandboxJoin | undefined> {
    const r = (await this.load()).get(pod);
    if (!r) return undefined;
    if (!r.ready || !this.namespacesExist(r)) throw new GroveError(ErrorCode.RuntimeFailed, `the sandbox of pod ${pod} is not ready`);
    const dir = this.dir(r.id);
    const mounts: BindMount[] = [{ source: join(dir, 'hosts'), destination: '/etc/hosts', readOnly: true }];
    // On the host's network the runtime binds the host's own resolv.conf, unless the pod has its own.
    if (!r.hostNetwork || r.ownResolvConf) mounts.push({ source: join(dir, 'resolv.conf'), destination: '/etc/resolv.conf', readOnly: true });
    return {
      namespaces: { ...(r.netns ? { network: r.netns } : {}), ipc: join(dir, 'ipc'), uts: join(dir, 'uts') },
      hostname: r.hostname ?? r.pod,
      mounts,
      ...(r.ip ? { ip: r.ip } : {}),
    };
  }

  /** The pod's resolv.conf by its dnsPolicy; undefined: the host's own, bound by the runtime (host network). */
  private async resolvConf(req: SandboxRequest): Promise<string | undefined> {
    const node = await bridgeResolvConf();
    if (!req.dns) return req.hostNetwork ? undefined : node;
    const dns = this.opts.clusterDns;
    const cluster = dns ? { nameserver: dns.nameserver, domain: dns.clusterDomain() ?? DEFAULT_CLUSTER_DOMAIN } : undefined;
    return podResolvConf({ policy: req.dns.policy, hostNetwork: req.hostNetwork, namespace: req.dns.namespace, node, ...(req.dns.config ? { config: req.dns.config } : {}), ...(cluster ? { cluster } : {}) });
  }

  /** Undoes create, whatever state it reached: safe twice and after a crash. */
  private async teardown(r: Pick<SandboxRecord, 'id' | 'hostNetwork'> & { pod?: string }): Promise<void> {
    if (!r.hostNetwork) await this.opts.network?.detach(r.id);
    const dir = this.dir(r.id);
    for (const ns of ['ipc', 'uts']) {
      // Not mounted (never made, or a reboot) is fine: the rm below tells a real failure.
      if (existsSync(join(dir, ns))) await runCommand(this.opts.umountPath ?? 'umount', [join(dir, ns)], { timeoutMs: 10_000 });
    }
    await rm(dir, { recursive: true, force: true });
    await rm(this.recordPath(r.id), { force: true });
    if (r.pod !== undefined && this.records?.get(r.pod)?.id === r.id) this.records.delete(r.pod);
  }

  private namespacesExist(r: SandboxRecord): boolean {
    const dir = this.dir(r.id);
    return existsSync(join(dir, 'ipc')) && existsSync(join(dir, 'uts')) && (r.hostNetwork || (r.netns !== undefined && existsSync(r.netns)));
  }

  private publicView(r: SandboxRecord): PodSandbox {
    const { id: _id, netns: _netns, ...view } = r;
    return { ...view, ports: r.ports.map((p) => ({ ...p })), ...(r.hostAliases ? { hostAliases: r.hostAliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })) } : {}) };
  }

  private async load(): Promise<Map<string, SandboxRecord>> {
    if (this.records) return this.records;
    const records = new Map<string, SandboxRecord>();
    const files = await readdir(this.opts.stateDir).catch(() => [] as string[]);
    for (const f of files.filter((name) => RECORD.test(name))) {
      try {
        const text = await readFile(join(this.opts.stateDir, f), 'utf8');
        if (text.length > MAX_RECORD_BYTES) throw new Error('too large');
        const r = JSON.parse(text) as SandboxRecord;
        if (typeof r.pod !== 'string' || r.id !== f.slice(0, -5) || !Array.isArray(r.ports)) throw new Error('not a sandbox record');
        // A second record for one pod (a crash mid-recreate): tear the older one down.
        const prev = records.get(r.pod);
        if (prev) await this.teardown(prev.createdAt <= r.createdAt ? prev : r);
        if (!prev || prev.createdAt <= r.createdAt) records.set(r.pod, r);
      } catch (err) {
        this.log.warn({ file: f, err: errorMessage(err) }, 'ignoring an unreadable sandbox record');
      }
    }
    this.records = records;
    return records;
  }

  private async save(r: SandboxRecord): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.recordPath(r.id), JSON.stringify(r), 0o600);
    (await this.load()).set(r.pod, r);
  }

  private dir(id: string): string {
    return join(this.opts.runDir, id);
  }

  private recordPath(id: string): string {
    return join(this.opts.stateDir, `${id}.json`);
  }
}

/** Linux's limit on a hostname (HOST_NAME_MAX): kubelet refuses a longer FQDN as the hostname too. */
const HOST_NAME_MAX = 64;

/** The pod's UTS hostname and the names of its own /etc/hosts line, as kubelet makes them. */
export function ownHostNames(req: Pick<SandboxRequest, 'hostname' | 'subdomain' | 'setHostnameAsFQDN' | 'dns'>, clusterDomain: string): { hostname: string; hostNames: string[] } {
  if (!req.subdomain) return { hostname: req.hostname, hostNames: [req.hostname] };
  const fqdn = `${req.hostname}.${req.subdomain}.${req.dns?.namespace ?? 'default'}.svc.${clusterDomain}`;
  if (req.setHostnameAsFQDN && fqdn.length > HOST_NAME_MAX) {
    throw new GroveError(ErrorCode.InvalidArgument, `setHostnameAsFQDN: the pod's FQDN ${fqdn} is longer than ${HOST_NAME_MAX} characters (Linux's hostname limit)`);
  }
  return { hostname: req.setHostnameAsFQDN ? fqdn : req.hostname, hostNames: [fqdn, req.hostname] };
}
