import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, runGrove, removeCtrDataDir, type GroveResult } from '../support/grove-cli.js';
import { buildBusyboxImage, pushImage } from '../support/image-builder.js';
import { freePort } from '../support/ports.js';
import { createNetnsLink, type NetnsLink } from '../support/netns.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Bridge networking through Debian's CNI plugins with real runc: a container gets an address
 * on a node bridge (a unique one per run), a published port answers from the host and from a
 * network namespace acting as a LAN peer, the container reaches that peer through NAT, and
 * removing the container leaves no veth, address lease or iptables rule behind.
 */
describeWith(['root', 'runc', 'registry', 'shim'], 'grove ctr --network bridge (CNI)', () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `grt${tag}`;
  // 150–199: apart from createNetnsLink's 10.64–127 and the test agents' 10.200–249.
  const octet = 150 + randomInt(50);
  const subnet = `10.${octet}.${randomInt(250)}.0/24`;
  /** A LAN peer: its own namespace, a veth to the host on a /30. */
  let lan: NetnsLink | undefined;
  let registry: TestRegistry;
  let dataDir: string;
  let image: string;

  const ctr = (args: string[]): Promise<GroveResult> => runGrove(['--data-dir', dataDir, 'ctr', ...args]);
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args).toString();
  const httpGet = (url: string, ns?: string): string => {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) }).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(e.message); process.exit(1); })`;
    return ns ? sh('ip', ['netns', 'exec', ns, process.execPath, '-e', script]) : sh(process.execPath, ['-e', script]);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'grove-ctr-bridge-'));
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ podBridge: bridge, podSubnet: subnet }));
    registry = await startRegistry();
    await pushImage(registry.url, 'test/busybox', '1', await buildBusyboxImage());
    image = `${registry.host}/test/busybox:1`;
    lan = await createNetnsLink('peer');
  }, 120_000);

  afterAll(async () => {
    await removeCtrDataDir(dataDir);
    await lan?.destroy();
    try {
      execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    await registry?.stop();
  });

  it('publishes a port to the host and the LAN, reaches out through NAT, and cleans up completely', async () => {
    const port = await freePort();
    const run = await ctr(['run', '-d', '--name', 'web', '--network', 'bridge', '-p', `${port}:8080`, image, 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && cat /etc/hosts >> /www/index.html && httpd -f -p 8080 -h /www']);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const info = JSON.parse((await ctr(['inspect', 'web'])).stdout) as { network?: { mode: string; ip: string; netns: string } };
    expect(info.network?.mode).toBe('bridge');
    expect(info.network?.ip).toMatch(new RegExp(`^10\\.${octet}\\.`));
    expect(sh('ip', ['-o', 'link', 'show', 'master', bridge])).toMatch(/veth/);

    const fromHost = await eventually(async () => {
      try {
        return httpGet(`http://127.0.0.1:${port}/`);
      } catch {
        return undefined;
      }
    }, 20_000, 'published port answers on the host');
    expect(fromHost).toContain(id.slice(0, 12));
    expect(fromHost).toMatch(new RegExp(`${info.network!.ip.replaceAll('.', '\\.')}\\s+${id.slice(0, 12)}`));
    expect(httpGet(`http://${lan!.hostIp}:${port}/`, lan!.ns)).toContain(id.slice(0, 12));

    // Outbound: the container reaches the LAN peer, which sees the node's address (NAT).
    const peerPort = await freePort();
    const server = execFileSync('sh', ['-c', `ip netns exec ${lan!.ns} ${process.execPath} -e "require('http').createServer((q,s)=>{s.end(q.socket.remoteAddress);server.close()}).listen(${peerPort});var server" >/dev/null 2>&1 & echo started`]).toString();
    expect(server).toContain('started');
    const out = await eventually(async () => {
      const r = await ctr(['run', '--rm', '--network', 'bridge', image, 'wget', '-q', '-O', '-', `http://${lan!.nsIp}:${peerPort}/`]);
      return r.code === 0 ? r.stdout : undefined;
    }, 20_000, 'container reaches the LAN peer');
    expect(out).toContain(lan!.hostIp);

    const rm = await ctr(['rm', '-f', 'web']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(execFileSync('ip', ['-o', 'link', 'show', 'master', bridge]).toString()).not.toMatch(/veth/);
    const leases = await readdir(join(dataDir, 'cni', 'ipam', 'grove')).catch(() => [] as string[]);
    expect(leases.filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))).toEqual([]);
    expect(execFileSync('iptables-save').toString()).not.toContain(id);
    expect(existsSync(info.network!.netns)).toBe(false);
    expect(await readdir(join(dataDir, 'cni', 'attachments'))).toEqual([]);
  });
});
