/**
 * Validation of ContainerTarget.probes of a schema-1 target (Grove 0.1's wire: wire.ts decodes
 * it only to convert it to schema 2; kept apart so wire.ts stays readable). Same rule as the
 * rest of the codec: every field checked, bounds enforced, and a fresh object holding only known
 * fields returned. The bounds are 0.1's (PROBE_LIMITS, src/core/objects/limits.ts).
 */
import type { ContainerProbes, Probe } from './resolved-pod.js';
import { PROBE_LIMITS } from './objects/limits.js';

/** Raises the codec's field error (wire.ts FieldError); never returns. */
export type FailField = (path: string, reason: string) => never;

export type Obj = Record<string, unknown>;

const LIMITS = Object.freeze({ argv: 1000, string: 64 * 1024, host: 253, headers: 100 });

export const at = (path: string, key: string): string => `${path}.${key}`;

function isObj(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function obj(v: unknown, p: string, fail: FailField): Obj {
  return isObj(v) ? v : fail(p, 'expected a map');
}

export function str(v: unknown, p: string, fail: FailField, max: number, min = 0): string {
  if (typeof v !== 'string') return fail(p, 'expected a string');
  if (v.length < min) return fail(p, 'must not be empty');
  if (v.length > max) return fail(p, `longer than ${max} characters`);
  return v;
}

export function int(v: unknown, p: string, fail: FailField, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return fail(p, 'expected an integer');
  if (v < min || v > max) return fail(p, `must be ${min}..${max}, got ${v}`);
  return v;
}

export function list<T>(v: unknown, p: string, fail: FailField, max: number, item: (x: unknown, p: string) => T, min = 0): T[] {
  if (!Array.isArray(v)) return fail(p, 'expected an array');
  if (v.length > max) return fail(p, `more than ${max} items`);
  if (v.length < min) return fail(p, `at least ${min} item required`);
  return v.map((x, i) => item(x, `${p}[${i}]`));
}

export const present = (o: Obj, key: string): boolean => o[key] !== undefined && o[key] !== null;

function probe(v: unknown, p: string, fail: FailField, singleSuccess: boolean): Probe {
  const o = obj(v, p, fail);
  const handlers = (['exec', 'httpGet', 'tcpSocket'] as const).filter((k) => present(o, k));
  if (handlers.length !== 1) fail(p, 'expected exactly one of exec, httpGet, tcpSocket');
  const seconds = (key: string, min: number) => int(o[key], at(p, key), fail, min, PROBE_LIMITS.seconds);
  const threshold = (key: string) => int(o[key], at(p, key), fail, 1, PROBE_LIMITS.threshold);
  const timing = {
    initialDelaySeconds: seconds('initialDelaySeconds', 0),
    periodSeconds: seconds('periodSeconds', 1),
    timeoutSeconds: seconds('timeoutSeconds', 1),
    failureThreshold: threshold('failureThreshold'),
    successThreshold: threshold('successThreshold'),
  };
  if (singleSuccess && timing.successThreshold !== 1) fail(at(p, 'successThreshold'), 'must be 1 for liveness and startup probes');
  const port = (h: Obj, hp: string) => int(h.port, at(hp, 'port'), fail, 1, 65535);
  const host = (h: Obj, hp: string, out: { host?: string }) => {
    if (present(h, 'host')) out.host = str(h.host, at(hp, 'host'), fail, LIMITS.host, 1);
  };
  if (handlers[0] === 'exec') {
    const ep = at(p, 'exec');
    const e = obj(o.exec, ep, fail);
    const command = list(e.command, at(ep, 'command'), fail, LIMITS.argv, (x, xp) => str(x, xp, fail, LIMITS.string), 1);
    return { exec: { command }, ...timing };
  }
  if (handlers[0] === 'httpGet') {
    const hp = at(p, 'httpGet');
    const h = obj(o.httpGet, hp, fail);
    const httpGet: Extract<Probe, { httpGet: unknown }>['httpGet'] = { path: str(h.path, at(hp, 'path'), fail, LIMITS.string), port: port(h, hp) };
    host(h, hp, httpGet);
    if (present(h, 'httpHeaders')) {
      httpGet.httpHeaders = list(h.httpHeaders, at(hp, 'httpHeaders'), fail, LIMITS.headers, (x, xp) => {
        const kv = obj(x, xp, fail);
        return { name: str(kv.name, at(xp, 'name'), fail, LIMITS.host, 1), value: str(kv.value, at(xp, 'value'), fail, LIMITS.string) };
      });
    }
    return { httpGet, ...timing };
  }
  const tp = at(p, 'tcpSocket');
  const t = obj(o.tcpSocket, tp, fail);
  const tcpSocket: Extract<Probe, { tcpSocket: unknown }>['tcpSocket'] = { port: port(t, tp) };
  host(t, tp, tcpSocket);
  return { tcpSocket, ...timing };
}

/** ContainerTarget.probes at path `p`. */
export function decodeProbes(v: unknown, p: string, fail: FailField): ContainerProbes {
  const o = obj(v, p, fail);
  const out: ContainerProbes = {};
  if (present(o, 'liveness')) out.liveness = probe(o.liveness, at(p, 'liveness'), fail, true);
  if (present(o, 'readiness')) out.readiness = probe(o.readiness, at(p, 'readiness'), fail, false);
  if (present(o, 'startup')) out.startup = probe(o.startup, at(p, 'startup'), fail, true);
  return out;
}
