/**
 * hostPID, hostIPC, hostAliases, securityContext fsGroup and sysctls end to end on the pure
 * side: what the PodSpec schema and rules admit (Kubernetes' refusals of sysctls), the run spec
 * the agent builds, the OCI config the runtime writes, the pod's /etc/hosts, the volumes'
 * group on disk, and compose's pid, ipc, extra_hosts and sysctls as the same fields.
 */
import { chmod, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerRunSpec } from '../../agent/src/agent/container-run-spec.js';
import { renderPodHosts } from '../../agent/src/agent/pod-hosts.js';
import { sandboxRequestOf } from '../../agent/src/agent/plan/pod-fields.js';
import { applyFsGroup, fsGroupMode } from '../../agent/src/agent/volumes/fs-group.js';
import { PodVolumes } from '../../agent/src/agent/volumes/pod-volumes.js';
import { MemorySandboxes } from '../../agent/src/agent/memory-sandboxes.js';
import { MemoryConfigSource } from '../../agent/src/agent/config-source.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { buildOciConfig } from '../../agent/src/runtime/oci-config.js';
import { hostsFile } from '../../agent/src/runtime/cni/cni-config.js';
import { silentLogger } from '../../src/core/logger.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import { pathText } from '../../src/core/objects/explain.js';
import { podSpecProblems } from '../../src/core/objects/pod-rules.js';
import { sysctlNamespace } from '../../src/core/objects/pod-runtime-rules.js';
import { checkObject } from '../../src/core/objects/validate.js';
import { container, podTarget } from '../support/pod-target.js';

const base = { containers: [{ name: 'app', image: 'busybox:1' }] };
const schemaProblems = (spec: unknown): string[] => {
  const r = checkObject('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
  return r.ok ? [] : r.problems.map((p) => `${pathText(p.path)}: ${p.reason}`);
};
const rules = (spec: Record<string, unknown>) => podSpecProblems({ ...base, ...spec } as never).map((p) => `${p.path.join('.')}: ${p.reason}`);
const sysctls = (...pairs: [string, string][]) => ({ securityContext: { sysctls: pairs.map(([name, value]) => ({ name, value })) } });

describe('PodSpec schema and rules', () => {
  it('admits hostPID, hostIPC, hostAliases, fsGroup, fsGroupChangePolicy and namespaced sysctls', () => {
    const spec = {
      ...base,
      hostPID: true,
      hostIPC: false,
      hostAliases: [{ ip: '10.0.0.5', hostnames: ['nas.lan', 'nas'] }],
      securityContext: { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch', sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }, { name: 'kernel.shm_rmid_forced', value: '1' }] },
    };
    expect(schemaProblems(spec)).toEqual([]);
    expect(podSpecProblems(spec as never)).toEqual([]);
  });

  it('refuses malformed entries, and shareProcessNamespace with its reason', () => {
    expect(schemaProblems({ ...base, hostAliases: [{ ip: 'nas', hostnames: ['x'] }] }).join()).toMatch(/hostAliases\[0\]\.ip: must be an IPv4 address/);
    expect(schemaProblems({ ...base, hostAliases: [{ ip: '10.0.0.1', hostnames: ['Bad Name'] }] }).join()).toMatch(/hostAliases\[0\]\.hostnames\[0\]/);
    expect(schemaProblems({ ...base, securityContext: { fsGroupChangePolicy: 'Sometimes' } }).join()).toMatch(/fsGroupChangePolicy/);
    expect(schemaProblems({ ...base, securityContext: { fsGroup: -1 } }).join()).toMatch(/fsGroup/);
    expect(schemaProblems({ ...base, ...sysctls(['net/ipv4/ip_forward', '1']) }).join()).toMatch(/sysctls\[0\]\.name: must be a sysctl name written with dots/);
    expect(schemaProblems({ ...base, ...sysctls(['net.ipv4.ip_forward', '1\n2']) }).join()).toMatch(/sysctls\[0\]\.value: must be printable text on one line/);
    expect(schemaProblems({ ...base, shareProcessNamespace: true })).toEqual([expect.stringMatching(/shareProcessNamespace: not supported: Grove's pod sandboxes have no pause process/)]);
  });

  it("refuses the node's sysctls, and those of a namespace shared with the host, as Kubernetes does", () => {
    expect(sysctlNamespace('net.core.somaxconn')).toBe('network');
    expect(sysctlNamespace('fs.mqueue.msg_max')).toBe('ipc');
    expect(sysctlNamespace('kernel.msgmax')).toBe('ipc');
    expect(sysctlNamespace('kernel.pid_max')).toBeUndefined();
    expect(sysctlNamespace('vm.swappiness')).toBeUndefined();
    expect(rules(sysctls(['vm.swappiness', '10']))).toEqual([expect.stringMatching(/^securityContext\.sysctls\.0\.name: "vm.swappiness" is not a namespaced sysctl: it would change the whole node/)]);
    expect(rules({ hostNetwork: true, ...sysctls(['net.ipv4.ip_forward', '1'], ['kernel.sem', '250 32000 32 128']) })).toEqual([
      'securityContext.sysctls.0.name: "net.ipv4.ip_forward" cannot be set with hostNetwork: true (the pod shares the node\'s network namespace)',
    ]);
    expect(rules({ hostIPC: true, ...sysctls(['kernel.sem', '250 32000 32 128']) })).toEqual([
      'securityContext.sysctls.0.name: "kernel.sem" cannot be set with hostIPC: true (the pod shares the node\'s IPC namespace)',
    ]);
    expect(rules(sysctls(['net.ipv4.ip_forward', '1'], ['net.ipv4.ip_forward', '0']))).toEqual(['securityContext.sysctls.1.name: "net.ipv4.ip_forward" is set twice']);
  });
});

describe('the agent', () => {
  const pod = podTarget('web-1', {
    spec: {
      hostPID: true,
      hostIPC: true,
      hostAliases: [{ ip: '10.0.0.5', hostnames: ['nas.lan', 'nas'] }, { ip: '10.0.0.6' }],
      securityContext: { supplementalGroups: [20], fsGroup: 2000, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }] },
    },
  });

  it('asks the runtime for the host namespaces, the sysctls and fsGroup as a supplementary group', () => {
    const run = containerRunSpec(pod, container('main'));
    expect(run).toMatchObject({ hostPID: true, hostIPC: true, sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' }, groupAdd: ['20', '2000'] });
    const plain = containerRunSpec(podTarget('db-1'), container('main'));
    expect(plain).not.toHaveProperty('hostPID');
    expect(plain).not.toHaveProperty('sysctls');
    expect(plain).not.toHaveProperty('groupAdd');
  });

  it('writes an OCI config without the pid and ipc namespaces, with the host /dev/shm and linux.sysctl', () => {
    const spec: ContainerSpec = {
      id: '0123456789abcdef0123456789abcdef', name: 'web', image: 'busybox', imageDigest: `sha256:${'b'.repeat(64)}`, env: [], limits: {}, labels: {},
      hostPID: true, hostIPC: true, sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' }, namespaces: { network: '/run/netns/x', uts: '/run/uts' },
    };
    const build = (s: ContainerSpec) =>
      buildOciConfig(s, { env: [], entrypoint: [], cmd: ['sh'], workingDir: '/', user: '', labels: {} }, { cgroupMode: 'unified', memorySwapSupported: true, nofileHardLimit: 1024, arch: 'amd64', kernel: '6.1.0' }, { rootfsPath: '/r', cgroupsPath: '/grove/x', readRootfsFile: () => undefined });
    const config = build(spec);
    expect(config.linux.namespaces.map((n) => n.type).sort()).toEqual(['cgroup', 'mount', 'network', 'uts']);
    expect(config.linux.sysctl).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '80' });
    expect(config.mounts.find((m) => m.destination === '/dev/shm')).toEqual({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
    const { hostPID: _p, hostIPC: _i, sysctls: _s, ...own } = spec;
    const plain = build(own);
    expect(plain.linux.namespaces.map((n) => n.type).sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    expect(plain.linux).not.toHaveProperty('sysctl');
    expect(plain.mounts.find((m) => m.destination === '/dev/shm')?.type).toBe('tmpfs');
  });

  it("adds hostAliases to the pod's /etc/hosts, at creation and on every rewrite", async () => {
    const req = sandboxRequestOf(pod);
    expect(req.hostAliases).toEqual([{ ip: '10.0.0.5', hostnames: ['nas.lan', 'nas'] }, { ip: '10.0.0.6', hostnames: [] }]);
    expect(hostsFile('web-1', '10.42.0.7', [], req.hostAliases)).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.42.0.7\tweb-1\n# Entries added by HostAliases.\n10.0.0.5\tnas.lan\tnas\n',
    );
    const sandboxes = new MemorySandboxes(() => 0);
    await sandboxes.create(req);
    await sandboxes.create(sandboxRequestOf(podTarget('db-1')));
    const files = renderPodHosts(await sandboxes.list());
    expect(files.get('web-1')).toMatch(/\n# Entries added by HostAliases\.\n10\.0\.0\.5\tnas\.lan\tnas\n$/);
    expect(files.get('db-1')).not.toContain('HostAliases');
  });
});

describe('fsGroup on volumes', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-fsgroup-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ORs in the group bits as the kubelet does: rw or ro, setgid and search on directories', () => {
    expect(fsGroupMode(0o40755, true, false)).toBe(0o2775);
    expect(fsGroupMode(0o100600, false, false)).toBe(0o660);
    expect(fsGroupMode(0o100600, false, true)).toBe(0o640);
    expect(fsGroupMode(0o40700, true, true)).toBe(0o2750);
  });

  it('gives every file the group, leaves symlinks alone, and writes nothing the second time', async () => {
    const root = join(dir, 'vol');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'f'), 'x');
    await chmod(join(root, 'sub', 'f'), 0o600);
    await chmod(root, 0o755);
    await symlink('/etc/hostname', join(root, 'link'));
    expect(await applyFsGroup(root, { gid: 4321, onRootMismatch: false }, false)).toBe(3);
    expect(((await stat(join(root, 'sub', 'f'))).gid)).toBe(4321);
    expect((await stat(join(root, 'sub', 'f'))).mode & 0o7777).toBe(0o660);
    expect((await stat(root)).mode & 0o7777).toBe(0o2775);
    expect((await lstat(join(root, 'link'))).gid).not.toBe(4321);
    expect((await stat('/etc/hostname')).gid).not.toBe(4321);
    expect(await applyFsGroup(root, { gid: 4321, onRootMismatch: false }, false)).toBe(0);
    // OnRootMismatch trusts a right top: a file changed beneath it is left as it is.
    await writeFile(join(root, 'new'), 'y');
    expect(await applyFsGroup(root, { gid: 4321, onRootMismatch: true }, false)).toBe(0);
    expect(await applyFsGroup(root, { gid: 4321, onRootMismatch: false }, false)).toBe(1);
  });

  it("gives a pod's emptyDir and ConfigMap volumes its fsGroup, not its hostPath ones", async () => {
    const hostDir = join(dir, 'host');
    await mkdir(hostDir);
    const config = new MemoryConfigSource();
    config.set('ConfigMap', 'settings', { level: 'debug' });
    const volumes = new PodVolumes({ dataDir: dir, logger: silentLogger(), config });
    const p = podTarget('p1', {
      spec: {
        securityContext: { fsGroup: 3000 },
        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'host', hostPath: { path: hostDir } }, { name: 'conf', configMap: { name: 'settings' } }],
      },
    });
    const mounts = [{ name: 'scratch', mountPath: '/s' }, { name: 'host', mountPath: '/h' }, { name: 'conf', mountPath: '/c' }];
    const binds = await volumes.mountsFor(p, container('c', { volumeMounts: mounts }));
    const scratch = await stat(binds[0]!.source);
    expect([scratch.gid, scratch.mode & 0o2070]).toEqual([3000, 0o2070]);
    const file = await stat(join(binds[2]!.source, 'level'));
    expect([file.gid, file.mode & 0o777]).toEqual([3000, 0o644]);
    // A new version of the files gets the group too.
    config.set('ConfigMap', 'settings', { level: 'info' });
    await volumes.refresh([{ kind: 'ConfigMap', name: 'settings' }]);
    expect((await stat(join(binds[2]!.source, 'level'))).gid).toBe(3000);
    expect((await stat(hostDir)).gid).not.toBe(3000);
  });
});

describe('compose pid, ipc, extra_hosts and sysctls', () => {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const translate = (lines: string) => manifestsToObjects([{ path: 'compose.yaml', text: `services:\n  web:\n    image: busybox\n    restart: always\n${lines}` }]);
  const spec = (lines: string): any => {
    const r = translate(lines);
    expect(r.problems.map((p) => p.text)).toEqual([]);
    return (r.objects.find((o: any) => o.kind === 'Deployment') as any).spec.template.spec;
  };
  const fails = (lines: string) => translate(lines).problems.map((p) => p.text).join('\n');

  it('maps pid: host and ipc: host; private and shareable IPC are the default', () => {
    expect(spec('    pid: host\n    ipc: host\n')).toMatchObject({ hostPID: true, hostIPC: true });
    const own = spec('    ipc: shareable\n');
    expect(own).not.toHaveProperty('hostIPC');
    expect(fails('    pid: "service:db"\n')).toMatch(/compose\.yaml:5 .*services\.web\.pid: "service:db" is not supported: only pid: host is/);
    expect(fails('    ipc: "container:x"\n')).toMatch(/services\.web\.ipc: "container:x" is not supported: only ipc: host is/);
  });

  it('maps extra_hosts in list and map form to hostAliases, grouped by address', () => {
    expect(spec('    extra_hosts:\n      - "nas:10.0.0.5"\n      - "NAS.lan=10.0.0.5"\n      - "printer:10.0.0.9"\n').hostAliases).toEqual([
      { ip: '10.0.0.5', hostnames: ['nas', 'nas.lan'] },
      { ip: '10.0.0.9', hostnames: ['printer'] },
    ]);
    expect(spec('    extra_hosts:\n      nas: 10.0.0.5\n      multi: ["10.0.0.7", "10.0.0.8"]\n').hostAliases).toEqual([
      { ip: '10.0.0.5', hostnames: ['nas'] },
      { ip: '10.0.0.7', hostnames: ['multi'] },
      { ip: '10.0.0.8', hostnames: ['multi'] },
    ]);
  });

  it('refuses host-gateway, IPv6 and malformed entries, each at its own index', () => {
    const text = fails('    extra_hosts:\n      - "host.docker.internal:host-gateway"\n      - "v6:::1"\n      - "nocolon"\n');
    expect(text).toMatch(/compose\.yaml:6 .*extra_hosts\[0\]: host-gateway is not supported: the node's address is not known/);
    expect(text).toMatch(/compose\.yaml:7 .*extra_hosts\[1\]: "::1" must be an IPv4 address \(IPv6 is not supported yet\)/);
    expect(text).toMatch(/compose\.yaml:8 .*extra_hosts\[2\]: "nocolon" must be HOST:IP or HOST=IP/);
  });

  it('maps sysctls in list and map form; refuses those of the node and of a namespace shared with the host', () => {
    expect(spec('    sysctls:\n      - net.core.somaxconn=1024\n      - kernel.shmmax=65536\n').securityContext.sysctls).toEqual([
      { name: 'net.core.somaxconn', value: '1024' },
      { name: 'kernel.shmmax', value: '65536' },
    ]);
    const both = spec('    group_add: [20]\n    sysctls:\n      net.ipv4.tcp_syncookies: 0\n').securityContext;
    expect(both).toEqual({ supplementalGroups: [20], sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '0' }] });
    expect(fails('    sysctls:\n      vm.swappiness: 10\n')).toMatch(/compose\.yaml:6 .*services\.web\.sysctls\["vm\.swappiness"\]: "vm.swappiness" is not a namespaced sysctl/);
    expect(fails('    network_mode: host\n    sysctls: ["net.ipv4.ip_forward=1"]\n')).toMatch(/sysctls\[0\]: "net.ipv4.ip_forward" cannot be set with network_mode: host/);
    expect(fails('    ipc: host\n    sysctls: ["kernel.msgmax=65536"]\n')).toMatch(/sysctls\[0\]: "kernel.msgmax" cannot be set with ipc: host/);
  });
});
