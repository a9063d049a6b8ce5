import type { Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGroveError } from '../../src/core/errors.js';
import type { ImageRunConfig } from '../../agent/src/images/types.js';
import type { ContainerSpec } from '../../agent/src/runtime/container-spec.js';
import { capabilitiesIn, deviceNumbers, parseDeviceFlag, parseVolumeFlag, resolveDevices, type ResolvedDevice } from '../../agent/src/runtime/host-access.js';
import { DEFAULT_CAPABILITIES, DEFAULT_DEVICE_RULES, buildOciConfig } from '../../agent/src/runtime/oci-config.js';

const IMAGE: ImageRunConfig = { env: ['PATH=/bin'], entrypoint: [], cmd: ['sh'], workingDir: '/', user: '', labels: {} };
const GROUP = 'root:x:0:\ndialout:x:20:\ngpio:x:997:\n';
const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({ id: 'a'.repeat(64), name: 'c', image: 'x', imageDigest: 'sha256:' + 'b'.repeat(64), env: [], limits: {}, labels: {}, ...over });
const build = (s: Partial<ContainerSpec>, devices: ResolvedDevice[] = [], capBounding?: string) =>
  buildOciConfig(spec(s), IMAGE, { cgroupMode: 'hybrid', memorySwapSupported: false, arch: 'arm64', kernel: '6.1.0' }, {
    rootfsPath: '/r',
    cgroupsPath: '/grove/x',
    devices,
    ...(capBounding !== undefined ? { capBounding } : {}),
    readRootfsFile: (p) => (p === '/etc/group' ? GROUP : undefined),
  });

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return isGroveError(err) ? err.message : String(err);
  }
  return 'no error';
};

describe('host access flags', () => {
  it('parses -v HOST:CONTAINER[:ro] and refuses runtime-owned or relative paths', () => {
    expect(parseVolumeFlag('/srv/data:/data')).toEqual({ source: '/srv/data', destination: '/data' });
    expect(parseVolumeFlag('/etc/app.conf:/etc/app.conf:ro')).toEqual({ source: '/etc/app.conf', destination: '/etc/app.conf', readOnly: true });
    expect(message(() => parseVolumeFlag('data:/data'))).toBe('--volume: host path "data" must be absolute');
    expect(message(() => parseVolumeFlag('/x:/proc'))).toContain('"/proc" is managed by the runtime');
    expect(message(() => parseVolumeFlag('/x:/a/../b'))).toContain('must not contain ".."');
    expect(message(() => parseVolumeFlag('/x:/y:rx'))).toContain('"rx" is not ro or rw');
  });

  it('parses --device HOST[:CONTAINER][:PERMISSIONS] as docker does', () => {
    expect(parseDeviceFlag('/dev/i2c-1')).toEqual({ hostPath: '/dev/i2c-1', containerPath: '/dev/i2c-1', permissions: 'rwm' });
    expect(parseDeviceFlag('/dev/ttyUSB0:/dev/gps')).toEqual({ hostPath: '/dev/ttyUSB0', containerPath: '/dev/gps', permissions: 'rwm' });
    expect(parseDeviceFlag('/dev/gpiomem:r')).toEqual({ hostPath: '/dev/gpiomem', containerPath: '/dev/gpiomem', permissions: 'r' });
    expect(parseDeviceFlag('/dev/sda:/dev/disk:rw')).toEqual({ hostPath: '/dev/sda', containerPath: '/dev/disk', permissions: 'rw' });
    expect(message(() => parseDeviceFlag('/dev/x:/tmp/x'))).toContain('must be under /dev/');
    expect(message(() => parseDeviceFlag('/dev/x:/dev/y:rwx'))).toContain('permissions "rwx"');
  });

  it('decodes device numbers the way the kernel encodes them', () => {
    expect(deviceNumbers(0x0103)).toEqual({ major: 1, minor: 3 });
    expect(deviceNumbers(0x0700 | 0x12)).toEqual({ major: 7, minor: 0x12 });
    // minor 300 on major 259 (nvme partitions): bits beyond the old 8-bit fields.
    const rdev = (259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12);
    expect(deviceNumbers(rdev)).toEqual({ major: 259, minor: 300 });
  });

  it('refuses a device that is missing or not a device node', () => {
    const fake = (kind: 'char' | 'file') => (() => ({ isCharacterDevice: () => kind === 'char', isBlockDevice: () => false, rdev: 0x0103, mode: 0o20666, uid: 0, gid: 20 }) as unknown as Stats);
    expect(resolveDevices([{ hostPath: '/dev/ttyUSB0', containerPath: '/dev/gps', permissions: 'rw' }], fake('char'))).toEqual([
      { path: '/dev/gps', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 20, permissions: 'rw' },
    ]);
    expect(message(() => resolveDevices([{ hostPath: '/etc/passwd', containerPath: '/dev/x', permissions: 'r' }], fake('file')))).toBe('/etc/passwd is not a device node');
    expect(message(() => resolveDevices([{ hostPath: '/dev/nope-grove', containerPath: '/dev/x', permissions: 'r' }]))).toBe('device /dev/nope-grove does not exist on this node');
  });
});

describe('OCI config: mounts, devices, groups, privileged', () => {
  const gpio: ResolvedDevice = { path: '/dev/gpiomem', type: 'c', major: 246, minor: 0, fileMode: 0o660, uid: 0, gid: 997, permissions: 'rw' };

  it('binds host paths, read-only when asked', () => {
    const config = build({ mounts: [{ source: '/srv/data', destination: '/data' }, { source: '/etc/app.conf', destination: '/etc/app.conf', readOnly: true }] });
    expect(config.mounts.slice(-2)).toEqual([
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/app.conf', type: 'bind', source: '/etc/app.conf', options: ['rbind', 'rprivate', 'ro'] },
    ]);
  });

  it('creates a passed device and allows exactly it in the device cgroup, nothing else', () => {
    const config = build({}, [gpio]);
    expect(config.linux.devices).toEqual([{ path: '/dev/gpiomem', type: 'c', major: 246, minor: 0, fileMode: 0o660, uid: 0, gid: 997 }]);
    expect(config.linux.resources.devices).toEqual([...DEFAULT_DEVICE_RULES, { allow: true, type: 'c', major: 246, minor: 0, access: 'rw' }]);
    expect(config.process.capabilities.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(build({}).linux.devices).toBeUndefined();
  });

  it('adds supplementary groups by name or number', () => {
    expect(build({ groupAdd: ['gpio', 'dialout', '44'] }).process.user).toEqual({ uid: 0, gid: 0, additionalGids: [20, 44, 997] });
    expect(message(() => build({ groupAdd: ['plugdev'] }))).toContain('unable to find group plugdev');
  });

  it('privileged: every capability the agent may grant, all devices, nothing masked', () => {
    // Bit 24 (CAP_SYS_RESOURCE) missing from the bounding set, as on this CI's VMs.
    const config = build({ privileged: true }, [], (((1n << 41n) - 1n) & ~(1n << 24n)).toString(16));
    expect(config.process.capabilities.bounding).toHaveLength(40);
    expect(config.process.capabilities.bounding).not.toContain('CAP_SYS_RESOURCE');
    expect(config.process.capabilities.bounding).toContain('CAP_NET_ADMIN');
    expect(capabilitiesIn(undefined)).toHaveLength(41);
    expect(config.process.noNewPrivileges).toBe(false);
    expect(config.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(config.linux.maskedPaths).toEqual([]);
    expect(config.linux.readonlyPaths).toEqual([]);
    expect(config.mounts.find((m) => m.destination === '/sys')!.options).toContain('rw');
  });
});
