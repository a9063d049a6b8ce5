import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PodNetwork } from '../../agent/src/runtime/cni/pod-network.js';
import { PodSandboxes } from '../../agent/src/runtime/pod-sandbox.js';
import { silentLogger } from '../../src/core/logger.js';
import type { SandboxRequest } from '../../agent/src/runtime/sandbox-model.js';
import { describeWith } from '../support/prereq.js';

/**
 * PodSandboxes on their own (root, CNI, iptables): a create that fails halfway (a CNI plugin
 * fails its ADD) leaves no namespace mount, veth, lease, iptables rule, record or directory;
 * what a crash left (a record never marked ready, a directory without a record) is found at
 * start and torn down.
 */
describeWith(['root', 'iproute2', 'iptables'], 'pod sandboxes: nothing half-created survives', () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `gtc${tag}`;
  const subnet = `10.${200 + randomInt(50)}.${randomInt(250)}.0/24`;
  let dir = '';
  let cniDir = '';
  const pod = (name: string): SandboxRequest => ({ pod: name, hostname: name, app: 'c', hostNetwork: false, ports: [{ containerPort: 80, hostPort: 30000 + randomInt(20000), protocol: 'tcp' }] });
  const make = (cniPath: string[]): PodSandboxes =>
    new PodSandboxes({
      stateDir: join(dir, 'agent', 'sandboxes'),
      runDir: join(dir, 'run'),
      network: new PodNetwork({ settings: { bridge, subnet, ipamDataDir: join(dir, 'ipam') }, stateDir: join(dir, 'attachments'), logger: silentLogger(), cniPath }),
      logger: silentLogger(),
    });
  const list = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-sandbox-cleanup-'));
    // The real plugins, but a firewall whose ADD fails after bridge and portmap did their work.
    cniDir = join(dir, 'cni');
    await mkdir(cniDir);
    for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) await symlink(`/usr/lib/cni/${p}`, join(cniDir, p));
    await writeFile(join(cniDir, 'firewall'), `#!/bin/sh\nif [ "$CNI_COMMAND" = ADD ]; then echo "$CNI_CONTAINERID" >> ${join(dir, 'ids')}; echo '{"code":100,"msg":"injected failure"}'; exit 1; fi\nexit 0\n`);
    await chmod(join(cniDir, 'firewall'), 0o755);
  });

  afterAll(async () => {
    try {
      sh('ip', ['link', 'delete', bridge]);
    } catch {
      // never made
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('undoes every step of a create that fails in the CNI chain', async () => {
    const sandboxes = make([cniDir]);
    await sandboxes.init();
    await expect(sandboxes.create(pod('web-1'))).rejects.toThrow('CNI firewall ADD failed (exit 1): injected failure');
    const [id] = (await readFile(join(dir, 'ids'), 'utf8')).trim().split('\n');
    expect(id).toMatch(/^pod-[0-9a-f]{20}$/);
    expect(await sandboxes.list()).toEqual([]);
    expect(list(join(dir, 'agent', 'sandboxes'))).toEqual([]);
    expect(list(join(dir, 'run'))).toEqual([]);
    expect(list(join(dir, 'attachments'))).toEqual([]);
    expect(list(join(dir, 'ipam', 'grove')).filter((f) => /^\d+\./.test(f))).toEqual([]);
    expect(sh('ip', ['-o', 'link', 'show', 'master', bridge]).trim()).toBe('');
    expect(sh('ip', ['netns', 'list'])).not.toContain(id!);
    expect(sh('iptables-save', [])).not.toContain(id!);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(join(dir, 'run'));
  });

  it('tears down at start what a crash left: a directory without a record, a record never made ready', async () => {
    const good = make(['/usr/lib/cni']);
    await good.init();
    const made = await good.create(pod('web-2'));
    expect(made.ready).toBe(true);
    // What the checks below must see gone is there now.
    expect(list(join(dir, 'ipam', 'grove')).filter((f) => /^\d+\./.test(f))).toEqual([made.ip]);
    expect(sh('ip', ['-o', 'link', 'show', 'master', bridge])).toMatch(/veth/);
    // A crash mid-create: the record says not ready (as written before anything was made).
    const [file] = list(join(dir, 'agent', 'sandboxes'));
    const record = JSON.parse(await readFile(join(dir, 'agent', 'sandboxes', file!), 'utf8')) as { id: string; ready: boolean };
    await writeFile(join(dir, 'agent', 'sandboxes', file!), JSON.stringify({ ...record, ready: false }));
    // And a directory no record claims, with a namespace mounted in it (a crash before the record).
    const stray = join(dir, 'run', 'pod-0123456789abcdef0123');
    await mkdir(stray, { recursive: true });
    await writeFile(join(stray, 'ipc'), '');
    await writeFile(join(stray, 'uts'), '');
    sh('unshare', [`--ipc=${join(stray, 'ipc')}`, `--uts=${join(stray, 'uts')}`, 'true']);

    const restarted = make(['/usr/lib/cni']);
    await restarted.init();
    expect(existsSync(stray)).toBe(false);
    expect(await restarted.list()).toMatchObject([{ pod: 'web-2', ready: false }]);
    // The agent recreates (remove + create) a sandbox that is not ready; removing it cleans all.
    await restarted.remove('web-2');
    expect(list(join(dir, 'run'))).toEqual([]);
    expect(list(join(dir, 'attachments'))).toEqual([]);
    expect(list(join(dir, 'ipam', 'grove')).filter((f) => /^\d+\./.test(f))).toEqual([]);
    expect(sh('iptables-save', [])).not.toContain(record.id);
    expect(sh('ip', ['netns', 'list'])).not.toContain(record.id);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(join(dir, 'run'));
  });
});
