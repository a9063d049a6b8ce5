/**
 * A host device handed to a container (docker --device, compose `devices:`, Grove's
 * `grove.io/devices` annotation): HOST[:CONTAINER][:PERMISSIONS], as docker writes it. PURE:
 * whether the device exists is the node's business (the runtime checks it when it creates
 * the container).
 */
import { posix } from 'node:path';
import { ErrorCode, GroveError } from './errors.js';
import { quoteValue } from './quote.js';

export interface DeviceMapping {
  hostPath: string;
  containerPath: string;
  /** Subset of "rwm" (read, write, mknod). */
  permissions: string;
}

export const MAX_DEVICES = 64;
const MAX_PATH = 4096;

const invalid = (what: string, why: string): GroveError => new GroveError(ErrorCode.InvalidArgument, `${what}: ${why}`);

function devicePath(path: string, what: string, side: string): string {
  if (!path.startsWith('/dev/')) throw invalid(what, `${side} path ${quoteValue(path)} must be under /dev/`);
  if (path.length > MAX_PATH || path.includes('\0')) throw invalid(what, 'path too long or contains NUL');
  if (path.split('/').includes('..')) throw invalid(what, `${quoteValue(path)} must not contain ".."`);
  return posix.normalize(path);
}

function permissions(p: string, what: string): string {
  if (!/^[rwm]{1,3}$/.test(p) || new Set(p).size !== p.length) throw invalid(what, `permissions ${quoteValue(p)} must be letters of rwm, each at most once`);
  return p;
}

/** HOST[:CONTAINER][:PERMISSIONS]; `what` names the flag or field in errors. */
export function parseDeviceSpec(value: string, what = '--device'): DeviceMapping {
  const parts = value.trim().split(':');
  if (parts.length > 3 || parts[0] === '') throw invalid(what, `${quoteValue(value)} is not HOST[:CONTAINER][:rwm]`);
  const hostPath = devicePath(parts[0]!, what, 'host');
  let containerPath = hostPath;
  let perms = 'rwm';
  if (parts.length === 3) {
    containerPath = parts[1]!;
    perms = parts[2]!;
  } else if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1]!)) perms = parts[1]!;
    else containerPath = parts[1]!;
  }
  return { hostPath, containerPath: devicePath(containerPath, what, 'container'), permissions: permissions(perms, what) };
}

/** The same checks on a mapping that arrives as an object (API, wire). */
export function checkDeviceMapping(d: DeviceMapping, what: string): DeviceMapping {
  return { hostPath: devicePath(d.hostPath, what, 'host'), containerPath: devicePath(d.containerPath, what, 'container'), permissions: permissions(d.permissions, what) };
}

/** A comma-separated list of specs (the `grove.io/devices` annotation). */
export function parseDeviceList(value: string, what: string): DeviceMapping[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length > MAX_DEVICES) throw invalid(what, `more than ${MAX_DEVICES} devices`);
  return items.map((s) => parseDeviceSpec(s, what));
}

/** Supplementary group: a gid or a group name as /etc/group writes them. */
export function checkGroup(g: string, what: string): string {
  if (!/^([0-9]{1,10}|[a-z_][a-z0-9_-]{0,31})$/i.test(g)) throw invalid(what, `${quoteValue(g)} is not a group name or number`);
  return g;
}

/** HOST[:CONTAINER]:PERMISSIONS, the inverse of parseDeviceSpec (the container path only when it differs). */
export function formatDeviceSpec(d: DeviceMapping): string {
  return `${d.hostPath}${d.containerPath !== d.hostPath ? `:${d.containerPath}` : ''}:${d.permissions}`;
}
