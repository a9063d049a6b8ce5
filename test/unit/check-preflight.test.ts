import { describe, expect, it } from 'vitest';
import { evaluatePreflight, formatBytes, preflightFailed, type PreflightFacts } from '../../src/cli/check/preflight.js';

const GOOD: PreflightFacts = {
  kernel: '6.6.51+rpt-rpi-v8',
  arch: 'arm64',
  cgroups: { ok: true, value: { version: 2, mode: 'unified', controllers: ['cpu', 'cpuset', 'io', 'memory', 'pids'] } },
  cmdline: 'console=tty1 root=PARTUUID=4e639091-02 rootwait cgroup_enable=memory cgroup_memory=1',
  cmdlineFile: '/boot/firmware/cmdline.txt',
  runtime: { ok: true, value: { name: 'crun', path: '/usr/bin/crun', reason: 'crun preferred (cgroup unified)' } },
  overlay: true,
  cni: [{ dir: '/usr/lib/cni', plugins: ['bridge', 'host-local', 'loopback', 'portmap', 'firewall'] }, { dir: '/opt/cni/bin', plugins: [] }],
  disk: { ok: true, value: { path: '/var/lib/grove', freeBytes: 20 * 2 ** 30 } },
  clock: 'synchronized',
};

function byName(facts: Partial<PreflightFacts>) {
  return Object.fromEntries(evaluatePreflight({ ...GOOD, ...facts }).map((r) => [r.name, r]));
}

describe('evaluatePreflight', () => {
  it('passes a ready Raspberry Pi', () => {
    const results = evaluatePreflight(GOOD);
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['kernel', 'ok'], ['cgroups', 'ok'], ['oci runtime', 'ok'], ['overlayfs', 'ok'], ['cni plugins', 'ok'], ['disk', 'ok'], ['clock', 'ok'],
    ]);
    expect(preflightFailed(results)).toBe(false);
  });

  it('fails a stock Pi kernel without the memory cgroup and points at --fix-cgroups', () => {
    const r = byName({
      cgroups: { ok: true, value: { version: 2, mode: 'unified', controllers: ['cpu', 'cpuset', 'io', 'pids'] } },
      cmdline: 'coherent_pool=1M cgroup_disable=memory console=tty1 root=PARTUUID=4e639091-02 rootwait',
    });
    expect(r['cgroup memory']).toMatchObject({ status: 'fail', detail: expect.stringContaining('disabled on the kernel command line') });
    expect(r['cgroup memory']!.fix).toContain('grove check --fix-cgroups');
    expect(r['cgroup memory']!.fix).toContain('/boot/firmware/cmdline.txt');
    expect(preflightFailed(Object.values(r))).toBe(true);
  });

  it('says only a reboot is missing when cmdline.txt already enables the memory cgroup', () => {
    const r = byName({ cgroups: { ok: true, value: { version: 2, mode: 'unified', controllers: ['cpu', 'pids'] } }, cmdlineFileEnables: true });
    expect(r['cgroup memory']).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^reboot: \/boot\/firmware\/cmdline.txt already enables/) });
  });

  it('only warns for pids/cpu controllers, CNI plugins, an unknown clock and a tight disk', () => {
    const r = byName({
      cgroups: { ok: true, value: { version: 1, mode: 'legacy', controllers: ['memory'] } },
      cni: [{ dir: '/usr/lib/cni', plugins: ['bridge'] }],
      clock: 'unknown',
      disk: { ok: true, value: { path: '/var/lib/grove', freeBytes: 1024 ** 3 } },
    });
    expect(Object.values(r).filter((x) => x.status !== 'ok').map((x) => [x.name, x.status])).toEqual([
      ['cgroup pids', 'warn'], ['cgroup cpu', 'warn'], ['cni plugins', 'warn'], ['disk', 'warn'], ['clock', 'warn'],
    ]);
    expect(r['cni plugins']!.detail).toBe('missing host-local, loopback, portmap (looked in /usr/lib/cni)');
    expect(preflightFailed(Object.values(r))).toBe(false);
  });

  it('fails with a fix for a missing runtime, no overlay, a full disk and an unsynchronized clock', () => {
    const r = byName({
      runtime: { ok: false, error: 'no OCI runtime found: install crun (preferred) or runc' },
      overlay: false,
      disk: { ok: true, value: { path: '/var/lib/grove', freeBytes: 100 * 2 ** 20 } },
      clock: 'unsynchronized',
      cgroups: { ok: false, error: 'no cgroup filesystem is mounted at /sys/fs/cgroup' },
    });
    for (const name of ['oci runtime', 'overlayfs', 'disk', 'clock', 'cgroups']) {
      expect(r[name]).toMatchObject({ status: 'fail', fix: expect.any(String) });
    }
    expect(r.disk!.detail).toBe('100.0 MiB free for /var/lib/grove');
  });

  it('warns on an old kernel and an architecture Grove does not ship', () => {
    expect(byName({ kernel: '4.14.98-v7+' }).kernel!.status).toBe('warn');
    expect(byName({ arch: 'riscv64' }).kernel!.status).toBe('warn');
    expect(formatBytes(512)).toBe('512 B');
  });
});
