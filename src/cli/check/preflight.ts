/**
 * `grove check`'s verdicts: pure functions from facts gathered about a host (host-probe.ts)
 * to one result per check, each failure with the command or step that fixes it.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface PreflightFacts {
  kernel: string;
  arch: string;
  cgroups: Outcome<{ version: 1 | 2; mode: string; controllers: string[] }>;
  /** The kernel command line running now (/proc/cmdline). */
  cmdline?: string;
  /** The boot cmdline.txt found (Raspberry Pi), for the memory cgroup fix. */
  cmdlineFile?: string;
  /** Whether that file already enables the memory cgroup (then only a reboot is missing). */
  cmdlineFileEnables?: boolean;
  runtime: Outcome<{ name: string; path: string; reason: string }>;
  overlay: boolean;
  /** CNI plugin directory searched → plugins found there. */
  cni: { dir: string; plugins: string[] }[];
  disk: Outcome<{ path: string; freeBytes: number }>;
  clock: 'synchronized' | 'unsynchronized' | 'unknown';
}

/** Below this the data dir cannot hold a couple of images: fail. Below WARN_FREE: warn. */
export const MIN_FREE_BYTES = 512 * 1024 * 1024;
export const WARN_FREE_BYTES = 2 * 1024 * 1024 * 1024;
const MIN_KERNEL: [number, number] = [4, 19];
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;
const SUPPORTED_ARCHES = ['arm64', 'arm', 'amd64'];

export function evaluatePreflight(f: PreflightFacts): CheckResult[] {
  return [checkKernel(f), ...checkCgroups(f), checkRuntime(f), checkOverlay(f), checkCni(f), checkDisk(f), checkClock(f)];
}

export function checkKernel(f: PreflightFacts): CheckResult {
  const m = /^(\d+)\.(\d+)/.exec(f.kernel);
  const detail = `Linux ${f.kernel} (${f.arch})`;
  if (!SUPPORTED_ARCHES.includes(f.arch)) {
    return { name: 'kernel', status: 'warn', detail: `${detail}: architecture not among Grove's release targets (${SUPPORTED_ARCHES.join(', ')})` };
  }
  if (m && (Number(m[1]) < MIN_KERNEL[0] || (Number(m[1]) === MIN_KERNEL[0] && Number(m[2]) < MIN_KERNEL[1]))) {
    return { name: 'kernel', status: 'warn', detail: `${detail}: older than ${MIN_KERNEL.join('.')}`, fix: 'upgrade the OS image (apt full-upgrade, or flash a current Raspberry Pi OS)' };
  }
  return { name: 'kernel', status: 'ok', detail };
}

export function checkCgroups(f: PreflightFacts): CheckResult[] {
  if (!f.cgroups.ok) {
    return [{ name: 'cgroups', status: 'fail', detail: f.cgroups.error, fix: 'mount cgroup2 at /sys/fs/cgroup (systemd does this on boot; check the kernel command line)' }];
  }
  const { version, mode, controllers } = f.cgroups.value;
  const results: CheckResult[] = [{ name: 'cgroups', status: 'ok', detail: `cgroup v${version} (${mode}), controllers: ${controllers.join(' ') || 'none'}` }];
  const memoryFix = f.cmdlineFile && f.cmdlineFileEnables
    ? `reboot: ${f.cmdlineFile} already enables the memory cgroup, the running kernel predates that`
    : f.cmdlineFile
    ? `sudo grove check --fix-cgroups (adds cgroup_enable=memory cgroup_memory=1 to ${f.cmdlineFile}), then reboot`
    : 'add cgroup_enable=memory cgroup_memory=1 to the kernel command line (and remove cgroup_disable=memory), then reboot';
  const want: [string, CheckStatus, string][] = [
    ['memory', 'fail', memoryFix],
    ['pids', 'warn', 'enable the pids controller (CONFIG_CGROUP_PIDS): without it pod process limits are not enforced'],
    ['cpu', 'warn', 'enable the cpu controller (CONFIG_CGROUP_SCHED): without it CPU limits are not enforced'],
  ];
  for (const [controller, severity, fix] of want) {
    if (controllers.includes(controller)) continue;
    const off = controller === 'memory' && f.cmdline !== undefined && /\bcgroup_disable=\S*memory/.test(f.cmdline) ? ' (disabled on the kernel command line)' : '';
    results.push({ name: `cgroup ${controller}`, status: severity, detail: `the ${controller} controller is not available${off}`, fix });
  }
  return results;
}

export function checkRuntime(f: PreflightFacts): CheckResult {
  if (!f.runtime.ok) return { name: 'oci runtime', status: 'fail', detail: f.runtime.error, fix: 'sudo apt-get install crun (or runc)' };
  const { name, path, reason } = f.runtime.value;
  return { name: 'oci runtime', status: 'ok', detail: `${name} at ${path} (${reason})` };
}

export function checkOverlay(f: PreflightFacts): CheckResult {
  return f.overlay
    ? { name: 'overlayfs', status: 'ok', detail: 'overlay is supported' }
    : { name: 'overlayfs', status: 'fail', detail: 'the kernel does not list overlay in /proc/filesystems', fix: 'sudo modprobe overlay, and add "overlay" to /etc/modules-load.d/grove.conf' };
}

export function checkCni(f: PreflightFacts): CheckResult {
  const best = [...f.cni].sort((a, b) => b.plugins.length - a.plugins.length)[0];
  const missing = CNI_PLUGINS.filter((p) => !best?.plugins.includes(p));
  if (best && missing.length === 0) return { name: 'cni plugins', status: 'ok', detail: `${CNI_PLUGINS.join(', ')} in ${best.dir}` };
  const where = f.cni.map((c) => c.dir).join(' or ');
  // Warn only: pods run with host or loopback-only networking without them.
  return { name: 'cni plugins', status: 'warn', detail: `missing ${missing.join(', ')} (looked in ${where})`, fix: 'sudo apt-get install containernetworking-plugins' };
}

export function checkDisk(f: PreflightFacts): CheckResult {
  if (!f.disk.ok) return { name: 'disk', status: 'warn', detail: f.disk.error };
  const { path, freeBytes } = f.disk.value;
  const detail = `${formatBytes(freeBytes)} free for ${path}`;
  if (freeBytes < MIN_FREE_BYTES) return { name: 'disk', status: 'fail', detail, fix: `free space or use a larger card: Grove needs at least ${formatBytes(MIN_FREE_BYTES)} for images and logs` };
  if (freeBytes < WARN_FREE_BYTES) return { name: 'disk', status: 'warn', detail: `${detail} (under ${formatBytes(WARN_FREE_BYTES)})`, fix: 'remove unused images (grove ctr images prune) or use a larger card' };
  return { name: 'disk', status: 'ok', detail };
}

export function checkClock(f: PreflightFacts): CheckResult {
  switch (f.clock) {
    case 'synchronized':
      return { name: 'clock', status: 'ok', detail: 'synchronized (NTP)' };
    case 'unsynchronized':
      // A Pi has no RTC: a wrong clock breaks TLS certificates and join token expiry.
      return { name: 'clock', status: 'fail', detail: 'not synchronized: TLS and join tokens need the right time', fix: 'sudo timedatectl set-ntp true (and check network access to an NTP server)' };
    default:
      return { name: 'clock', status: 'warn', detail: 'synchronization state unknown (no systemd-timesyncd state, no answer from timedatectl)', fix: 'run an NTP client (systemd-timesyncd, chrony)' };
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Non-zero exit when anything failed; warnings alone pass. */
export function preflightFailed(results: CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}
