/**
 * What a container may reach of its host beyond its own rootfs: bind mounts (docker -v),
 * devices (docker --device: the node made in the container and allowed in the device cgroup,
 * nothing else), supplementary groups (--group-add: gpio, dialout…) and the explicit opt-in to
 * `privileged`. Parsing and checks are pure; `resolveDevices` reads the host's device nodes.
 */
import { statSync, type Stats } from 'node:fs';
import { stat as statAsync } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { MAX_DEVICES, parseDeviceSpec, type DeviceMapping } from '../../../src/core/device-spec.js';
import { ALL_CAPABILITIES } from '../../../src/core/capabilities.js';

export type { DeviceMapping } from '../../../src/core/device-spec.js';

export interface BindMount {
  /** Absolute host path (file or directory). */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  readOnly?: boolean;
  /** nosuid, nodev, noexec: for directories the agent hands out (the update-lock directory). */
  noExec?: boolean;
}


/** A device with what the OCI spec needs of it, read from the host's node. */
export interface ResolvedDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  permissions: string;
}

export const MAX_MOUNTS = 64;

const invalid = (what: string, why: string): GroveError => new GroveError(ErrorCode.InvalidArgument, `${what}: ${why}`);

/** Container paths that bind mounts may not cover: the runtime owns them. */
const RESERVED = ['/', '/proc', '/sys', '/dev'];

export function checkContainerPath(path: string, what: string): string {
  if (!path.startsWith('/')) throw invalid(what, `"${path}" must be an absolute path`);
  if (path.length > 4096 || path.includes('\0')) throw invalid(what, 'path too long or contains NUL');
  if (path.split('/').includes('..')) throw invalid(what, `"${path}" must not contain ".."`);
  const clean = posix.normalize(path).replace(/\/+$/, '') || '/';
  if (RESERVED.includes(clean)) throw invalid(what, `"${clean}" is managed by the runtime and cannot be a mount target`);
  return clean;
}

function checkHostPath(path: string, what: string): string {
  if (!isAbsolute(path)) throw invalid(what, `host path "${path}" must be absolute`);
  if (path.length > 4096 || path.includes('\0')) throw invalid(what, 'path too long or contains NUL');
  return posix.normalize(path);
}

/** docker -v HOST:CONTAINER[:ro|rw]. Named volumes are the agent's business, not this flag's. */
export function parseVolumeFlag(value: string): BindMount {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalid('--volume', `"${value}" is not HOST:CONTAINER[:ro]`);
  const [source = '', destination = '', mode] = parts;
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid('--volume', `"${mode}" is not ro or rw`);
  return { source: checkHostPath(source, '--volume'), destination: checkContainerPath(destination, '--volume'), ...(mode === 'ro' ? { readOnly: true } : {}) };
}

/** docker --device HOST[:CONTAINER][:PERMISSIONS]. */
export function parseDeviceFlag(value: string): DeviceMapping {
  return parseDeviceSpec(value, '--device');
}

/** Linux's new_decode_dev: majors and minors wider than 8 bits are split around the old layout. */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
  const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
  return { major, minor };
}

/** Reads each mapped device node: it must exist and be a character or block device. */
export function resolveDevices(mappings: readonly DeviceMapping[], stat: (path: string) => Stats = statSync): ResolvedDevice[] {
  if (mappings.length > MAX_DEVICES) throw invalid('devices', `more than ${MAX_DEVICES}`);
  return mappings.map((m) => {
    let st: Stats;
    try {
      st = stat(m.hostPath);
    } catch (err) {
      throw new GroveError(ErrorCode.InvalidArgument, `device ${m.hostPath} does not exist on this node`, { cause: err, details: { device: m.hostPath } });
    }
    const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
    if (!type) throw new GroveError(ErrorCode.InvalidArgument, `${m.hostPath} is not a device node`, { details: { device: m.hostPath } });
    return { path: m.containerPath, type, ...deviceNumbers(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, permissions: m.permissions };
  });
}

/** A bind mount's host path must exist: runc would otherwise create it (as root) on the host. */
export async function checkMountSources(mounts: readonly BindMount[]): Promise<void> {
  if (mounts.length > MAX_MOUNTS) throw invalid('mounts', `more than ${MAX_MOUNTS}`);
  for (const m of mounts) {
    try {
      await statAsync(m.source);
    } catch (err) {
      throw new GroveError(ErrorCode.InvalidArgument, `mount source ${m.source} does not exist on this node`, { cause: err, details: { source: m.source } });
    }
  }
}

export { ALL_CAPABILITIES };

/**
 * The capabilities in the agent's own bounding set (CapBnd, hex): a runtime cannot grant more,
 * and asking for one outside it fails the start (VMs and nested containers drop some). All
 * known ones when the set is unknown.
 */
export function capabilitiesIn(capBounding: string | undefined): string[] {
  if (capBounding === undefined || !/^[0-9a-f]{1,16}$/i.test(capBounding)) return [...ALL_CAPABILITIES];
  const mask = BigInt(`0x${capBounding}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export function bindMountEntry(m: BindMount): { destination: string; type: string; source: string; options: string[] } {
  if (!isAbsolute(m.source) || !m.destination.startsWith('/')) {
    throw new GroveError(ErrorCode.InvalidArgument, `bind mount ${m.source}:${m.destination}: both paths must be absolute`);
  }
  const options = ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw', ...(m.noExec ? ['nosuid', 'nodev', 'noexec'] : [])];
  return { destination: m.destination, type: 'bind', source: m.source, options };
}
