/** Gathers `grove check`'s facts from the running system (verdicts: preflight.ts). */
import { existsSync } from 'node:fs';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { detectHost } from '../../../agent/src/runtime/host.js';
import { detectOciRuntime, whichBinary } from '../../../agent/src/runtime/oci-runtime.js';
import { runCommand } from '../../../agent/src/runtime/run-command.js';
import { loadLocalConfig } from '../local-config.js';
import { enableMemoryCgroup, findCmdline } from './cmdline.js';
import type { Outcome, PreflightFacts } from './preflight.js';

/** Debian's containernetworking-plugins, then the upstream default. */
export const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

export interface ProbeOptions {
  dataDir: string;
  /** --runtime / $GROVE_RUNTIME / the config file's runtime, when given. */
  runtime?: 'auto' | 'crun' | 'runc' | undefined;
  /** $PATH, where the runtimes and timedatectl are looked up. */
  searchPath: string;
  logger: Logger;
}

export async function probeHost(options: ProbeOptions): Promise<PreflightFacts> {
  const host = await detectHost().then(
    (h) => ({ ok: true as const, value: h }),
    (err: unknown) => ({ ok: false as const, error: errorMessage(err) }),
  );
  const cgroups: PreflightFacts['cgroups'] = host.ok
    ? { ok: true, value: { version: host.value.cgroupVersion, mode: host.value.cgroupMode, controllers: host.value.controllers } }
    : host;
  const cmdline = await readFile('/proc/cmdline', 'utf8').catch(() => undefined);
  const cmdlineFile = findCmdline();
  const cmdlineText = cmdlineFile ? await readFile(cmdlineFile, 'utf8').catch(() => undefined) : undefined;
  return {
    kernel: host.ok ? host.value.kernel : (await readFile('/proc/sys/kernel/osrelease', 'utf8').catch(() => 'unknown')).trim(),
    arch: host.ok ? host.value.arch : process.arch,
    cgroups,
    ...(cmdline !== undefined ? { cmdline } : {}),
    ...(cmdlineFile ? { cmdlineFile } : {}),
    ...(cmdlineText !== undefined && cmdlineText.length <= 8192 ? { cmdlineFileEnables: !enableMemoryCgroup(cmdlineText).changed } : {}),
    runtime: await probeRuntime(options, host.ok ? host.value.cgroupMode : 'unified'),
    overlay: host.ok ? host.value.overlaySupported : false,
    cni: await Promise.all(CNI_DIRS.map(async (dir) => ({ dir, plugins: await readdir(dir).catch(() => [] as string[]) }))),
    disk: await freeSpace(options.dataDir),
    clock: await clockState(options.searchPath),
  };
}

/** The runtime the agent would pick, by the agent's own rules (flag/env/config preference). */
async function probeRuntime(options: ProbeOptions, cgroupMode: 'legacy' | 'hybrid' | 'unified'): Promise<Outcome<{ name: string; path: string; reason: string }>> {
  try {
    const config = await loadLocalConfig(options.dataDir).catch(() => ({ runtime: 'auto' as const }));
    const preferred = options.runtime ?? config.runtime;
    const r = await detectOciRuntime({ host: { cgroupMode }, preferred, logger: options.logger, searchPath: options.searchPath });
    return { ok: true, value: { name: r.name, path: r.path, reason: r.version === 'unknown' ? r.reason : `${r.version}, ${r.reason}` } };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** Free space for the data dir, measured on the nearest directory that exists (before install). */
async function freeSpace(dataDir: string): Promise<Outcome<{ path: string; freeBytes: number }>> {
  let dir = dataDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const s = await statfs(dir);
    return { ok: true, value: { path: dataDir, freeBytes: s.bavail * s.bsize } };
  } catch (err) {
    return { ok: false, error: `cannot measure free space at ${dir}: ${errorMessage(err)}` };
  }
}

/**
 * systemd-timesyncd touches /run/systemd/timesync/synchronized once synced; otherwise
 * timedatectl's NTPSynchronized, which reads the kernel's adjtimex state (chrony, ntpd too).
 */
async function clockState(searchPath: string): Promise<PreflightFacts['clock']> {
  if (existsSync('/run/systemd/timesync/synchronized')) return 'synchronized';
  const timedatectl = whichBinary('timedatectl', searchPath);
  if (!timedatectl) return 'unknown';
  try {
    const r = await runCommand(timedatectl, ['show', '-p', 'NTPSynchronized', '--value'], { timeoutMs: 5000 });
    const answer = r.exitCode === 0 ? r.output.trim() : '';
    return answer === 'yes' ? 'synchronized' : answer === 'no' ? 'unsynchronized' : 'unknown';
  } catch {
    return 'unknown';
  }
}

