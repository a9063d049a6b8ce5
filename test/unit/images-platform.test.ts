import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformScore, selectManifest, type PlatformDescriptor } from '../../agent/src/images/platform.js';

const d = (digit: string, platform?: PlatformDescriptor['platform']): PlatformDescriptor => ({ digest: `sha256:${digit.repeat(64)}`, ...(platform ? { platform } : {}) });

const index = {
  manifests: [
    d('1', { os: 'linux', architecture: 'amd64' }),
    d('2', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    d('3', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    d('4', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    d('5', { os: 'unknown', architecture: 'unknown' }), // attestation manifest
    d('6'),
  ],
};

describe('hostPlatform', () => {
  it('maps node arch names to OCI names', () => {
    expect(hostPlatform({ arch: 'x64' })).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform({ arch: 'arm64' })).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(hostPlatform({ arch: 'ia32' })).toEqual({ os: 'linux', architecture: '386' });
  });
  it('detects the 32-bit ARM variant from /proc/cpuinfo', () => {
    expect(hostPlatform({ arch: 'arm', cpuinfo: 'model name\t: ARMv7 Processor rev 4 (v7l)\nCPU architecture: 7\n' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    // Raspberry Pi Zero / 1: the ARM1176 reports architecture 7 but is an ARMv6
    expect(hostPlatform({ arch: 'arm', cpuinfo: 'model name\t: ARMv6-compatible processor rev 7 (v6l)\nCPU architecture: 7\n' })).toMatchObject({ variant: 'v6' });
    expect(hostPlatform({ arch: 'arm', cpuinfo: 'model name\t: ARMv6-compatible processor rev 7 (v6l)\n' })).toMatchObject({ variant: 'v6' });
    expect(hostPlatform({ arch: 'arm', cpuinfo: 'processor: 0\nCPU architecture: 6\n' })).toMatchObject({ variant: 'v6' });
    expect(hostPlatform({ arch: 'arm', cpuinfo: '' })).toMatchObject({ variant: 'v7' });
  });
});

describe('platform helpers', () => {
  it('normalises aliases', () => {
    expect(normalizePlatform({ os: 'linux', architecture: 'aarch64' })).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(normalizePlatform({ os: 'linux', architecture: 'x86_64' })).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(normalizePlatform({ os: 'linux', architecture: 'armhf' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
  });
  it('formats and parses', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(() => parsePlatform('linux')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });
  it('scores compatibility', () => {
    const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
    expect(platformScore(armv7, armv7)).toBe(0);
    expect(platformScore(armv7, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(1);
    expect(platformScore({ os: 'linux', architecture: 'arm', variant: 'v6' }, armv7)).toBeUndefined();
    expect(platformScore({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64' })).toBe(0);
    expect(platformScore({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(0);
    expect(platformScore({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' })).toBeUndefined();
  });
});

describe('selectManifest', () => {
  it('selects amd64', () => {
    expect(selectManifest(index, { os: 'linux', architecture: 'amd64' }).digest).toBe(index.manifests[0]!.digest);
  });
  it('selects arm64 with or without the v8 variant on either side', () => {
    expect(selectManifest(index, { os: 'linux', architecture: 'arm64' }).digest).toBe(index.manifests[3]!.digest);
    const noVariant = { manifests: [d('7', { os: 'linux', architecture: 'arm64' })] };
    expect(selectManifest(noVariant, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest).toBe(noVariant.manifests[0]!.digest);
  });
  it('prefers the exact arm variant, falls back to an older one, never a newer one', () => {
    expect(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest).toBe(index.manifests[2]!.digest);
    expect(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest).toBe(index.manifests[1]!.digest);
    const onlyV6 = { manifests: [d('8', { os: 'linux', architecture: 'arm', variant: 'v6' })] };
    expect(selectManifest(onlyV6, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest).toBe(onlyV6.manifests[0]!.digest);
    const onlyV7 = { manifests: [d('9', { os: 'linux', architecture: 'arm', variant: 'v7' })] };
    expect(() => selectManifest(onlyV7, { os: 'linux', architecture: 'arm', variant: 'v6' })).toThrow(expect.objectContaining({ code: ErrorCode.PlatformNotFound }));
  });
  it('throws PlatformNotFound naming what is available', () => {
    let message = '';
    try {
      selectManifest(index, { os: 'linux', architecture: 'riscv64' }, 'busybox:latest');
    } catch (err) {
      expect(err).toMatchObject({ code: ErrorCode.PlatformNotFound });
      message = (err as Error).message;
    }
    expect(message).toBe('no linux/riscv64 variant of busybox:latest (available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8)');
  });
});
