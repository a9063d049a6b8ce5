/**
 * Validation of what a pod may reach of its node — devices, supplementary groups, privileged —
 * in a schema-1 target (Grove 0.1's wire, decoded by wire.ts only to be converted to schema 2;
 * objects carry them as grove.io/ annotations and securityContext, checked by the object rules).
 * Each returns a fresh value holding only known fields.
 */
import { checkDeviceMapping, checkGroup, MAX_DEVICES, type DeviceMapping } from './device-spec.js';
import { isGroveError } from './errors.js';

export type FailField = (path: string, reason: string) => never;

const MAX_GROUPS = 32;

/** Runs a check that throws GroveError "<path>: reason", reporting it through `fail`. */
function via<T>(fail: FailField, path: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!isGroveError(err)) throw err;
    return fail(path, err.message.startsWith(`${path}: `) ? err.message.slice(path.length + 2) : err.message);
  }
}

export function decodeDevices(v: unknown, path: string, fail: FailField): DeviceMapping[] {
  if (!Array.isArray(v)) return fail(path, 'expected an array');
  if (v.length > MAX_DEVICES) return fail(path, `more than ${MAX_DEVICES} devices`);
  return v.map((d, i) => {
    const at = `${path}[${i}]`;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return fail(at, 'expected {hostPath, containerPath, permissions}');
    const o = d as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['hostPath', 'containerPath', 'permissions'].includes(k)) fail(`${at}.${k}`, 'unknown field');
    if (typeof o.hostPath !== 'string' || typeof o.containerPath !== 'string' || typeof o.permissions !== 'string') return fail(at, 'hostPath, containerPath and permissions must be strings');
    const m = { hostPath: o.hostPath, containerPath: o.containerPath, permissions: o.permissions };
    return via(fail, at, () => checkDeviceMapping(m, at));
  });
}

export function decodeGroups(v: unknown, path: string, fail: FailField): string[] {
  if (!Array.isArray(v)) return fail(path, 'expected an array');
  if (v.length > MAX_GROUPS) return fail(path, `more than ${MAX_GROUPS} groups`);
  return v.map((g, i) => (typeof g === 'string' ? via(fail, `${path}[${i}]`, () => checkGroup(g, `${path}[${i}]`)) : fail(`${path}[${i}]`, 'expected a string')));
}

export function decodePrivileged(v: unknown, path: string, fail: FailField): true | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? true : fail(path, 'expected a boolean');
}
