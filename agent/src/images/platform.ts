import { readFileSync } from 'node:fs';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { Platform } from './types.js';

export interface HostPlatformOptions {
  /** Defaults to process.arch. */
  arch?: string;
  /** Contents of /proc/cpuinfo (read lazily on 32-bit ARM only). */
  cpuinfo?: string;
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform images must match to run here (the OCI / Go GOOS-GOARCH names). */
export function hostPlatform(options: HostPlatformOptions = {}): Platform {
  const arch = options.arch ?? process.arch;
  const architecture = NODE_ARCH[arch] ?? arch;
  if (architecture !== 'arm') return { os: 'linux', architecture };
  let cpuinfo = options.cpuinfo;
  if (cpuinfo === undefined) {
    try {
      cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      cpuinfo = '';
    }
  }
  return { os: 'linux', architecture: 'arm', variant: armVariant(cpuinfo) };
}

/**
 * v7 unless /proc/cpuinfo says the CPU is an ARMv6 or ARMv5. The model name wins: the ARM1176
 * of the Raspberry Pi Zero / 1 reports "CPU architecture: 7" but is an ARMv6.
 */
function armVariant(cpuinfo: string): string {
  if (/^model name\s*:.*ARMv6/im.test(cpuinfo)) return 'v6';
  const m = /^CPU architecture\s*:\s*(\d+)/m.exec(cpuinfo);
  if (m && Number(m[1]) <= 6) return `v${Math.max(5, Number(m[1]))}`;
  return 'v7';
}

/** Normalise the aliases found in the wild (aarch64, x86_64, armhf …) to OCI names. */
export function normalizePlatform(p: Platform): Platform {
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case 'aarch64':
      architecture = 'arm64';
      break;
    case 'x86_64':
    case 'x86-64':
      architecture = 'amd64';
      break;
    case 'i386':
      architecture = '386';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
  }
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (architecture === 'arm' && variant !== undefined && /^\d$/.test(variant)) variant = `v${variant}`;
  return { os: p.os.toLowerCase(), architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Parses "linux/arm/v7" or "linux/amd64". */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant, extra] = s.split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid platform "${s}": expected os/arch[/variant]`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/**
 * How well a candidate fits the wanted platform: undefined = cannot run it, lower is better.
 * arm64 accepts v8 and no variant alike; 32-bit ARM prefers its own variant and can run
 * older ones (v7 runs v6 and v5 images), never newer ones.
 */
export function platformScore(wanted: Platform, candidate: Platform): number | undefined {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return undefined;
  if (w.architecture === 'arm') {
    const wv = Number(w.variant!.slice(1));
    const cv = Number(c.variant!.slice(1));
    if (!Number.isFinite(wv) || !Number.isFinite(cv) || cv > wv) return undefined;
    return wv - cv;
  }
  if (w.variant === c.variant) return 0;
  if (w.architecture === 'arm64') return undefined;
  // Other architectures: a candidate without a variant fits anything; any other variant does not.
  return c.variant === undefined || w.variant === undefined ? 1 : undefined;
}

export interface PlatformDescriptor {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string; [k: string]: unknown };
}

/**
 * Picks the manifest for `platform` from an image index / manifest list. Entries without a
 * platform (attestations, artifacts) are ignored; the best score wins and the first entry
 * breaks ties. Throws PlatformNotFound naming what the index offers.
 */
export function selectManifest<D extends PlatformDescriptor>(
  index: { manifests: readonly D[] },
  platform: Platform,
  what = 'image',
): D {
  let best: D | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const offered: string[] = [];
  for (const desc of index.manifests) {
    const p = desc.platform;
    if (!p || typeof p.os !== 'string' || typeof p.architecture !== 'string' || p.os === 'unknown') continue;
    const candidate: Platform = { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) };
    offered.push(formatPlatform(candidate));
    const score = platformScore(platform, candidate);
    if (score !== undefined && score < bestScore) {
      best = desc;
      bestScore = score;
    }
  }
  if (!best) {
    const list = offered.length > 0 ? offered.join(', ') : 'none';
    throw new GroveError(
      ErrorCode.PlatformNotFound,
      `no ${formatPlatform(platform)} variant of ${what} (available: ${list})`,
      { details: { platform, available: offered } },
    );
  }
  return best;
}
