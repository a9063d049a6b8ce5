import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { DOCKER_HUB } from '../../../src/core/image-ref.js';

/**
 * `<data-dir>/registries.json`, in the spirit of k3s' registries.yaml:
 *
 *   { "mirrors": { "docker.io": { "endpoints": ["http://127.0.0.1:5000"] } },
 *     "configs": { "127.0.0.1:5000": { "auth": { "username": "u", "password": "p" } },
 *                  "registry.lan:5000": { "insecure": true } } }
 */
export type RegistryCredentials = { username: string; password: string } | { token: string };

export interface RegistryHostConfig {
  auth?: RegistryCredentials;
  /** Allow plain http:// to this host (loopback hosts are always allowed). */
  insecure?: boolean;
}

export interface RegistryMirror {
  endpoints: string[];
}

export interface RegistriesConfig {
  mirrors: Record<string, RegistryMirror>;
  configs: Record<string, RegistryHostConfig>;
}

/** One place a request for a registry can go: a mirror or the origin. */
export interface RegistryEndpoint {
  /** Base URL without trailing slash; requests go to `${url}/v2/…`. */
  url: string;
  /** host[:port] of the URL, the key into `configs`, and what errors name. */
  host: string;
  mirror: boolean;
  auth?: RegistryCredentials;
}

export const DOCKER_HUB_ORIGIN = 'https://registry-1.docker.io';

export function emptyRegistriesConfig(): RegistriesConfig {
  return { mirrors: {}, configs: {} };
}

function bad(field: string, why: string, source: string): GroveError {
  return new GroveError(ErrorCode.ConfigInvalid, `${source}: ${field} ${why}`, { details: { field, source } });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], field: string, source: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw bad(`${field}.${key}`, `is not a known field (expected one of: ${allowed.join(', ')})`, source);
  }
}

/** True for 127.0.0.0/8, ::1 and localhost, with or without a port. */
export function isLoopbackHost(hostPort: string): boolean {
  let host = hostPort;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.split(':').length === 2) host = host.split(':')[0]!;
  host = host.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function parseEndpoint(raw: unknown, field: string, source: string): URL {
  if (typeof raw !== 'string' || raw.length === 0) throw bad(field, 'must be a non-empty URL string', source);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad(field, `is not a valid URL: "${raw}"`, source);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(field, `must use http:// or https://, got "${raw}"`, source);
  if (url.username || url.password) throw bad(field, 'must not embed credentials; use configs.<host>.auth', source);
  if (url.search || url.hash) throw bad(field, 'must not have a query or fragment', source);
  return url;
}

function parseAuth(raw: unknown, field: string, source: string): RegistryCredentials {
  if (!isObject(raw)) throw bad(field, 'must be an object with username/password or token', source);
  checkKeys(raw, ['username', 'password', 'token'], field, source);
  if (raw.token !== undefined) {
    if (typeof raw.token !== 'string' || raw.token.length === 0) throw bad(`${field}.token`, 'must be a non-empty string', source);
    if (raw.username !== undefined || raw.password !== undefined) throw bad(field, 'takes either token or username/password, not both', source);
    return { token: raw.token };
  }
  if (typeof raw.username !== 'string' || raw.username.length === 0) throw bad(`${field}.username`, 'must be a non-empty string', source);
  if (raw.username.includes(':')) throw bad(`${field}.username`, 'must not contain ":"', source);
  if (typeof raw.password !== 'string') throw bad(`${field}.password`, 'must be a string', source);
  return { username: raw.username, password: raw.password };
}

/**
 * Validates a registries config value (parsed JSON), naming the offending field in errors.
 * http:// mirror endpoints are refused (InsecureRegistry) unless the host is loopback or
 * `configs.<host>.insecure` is true.
 */
export function parseRegistriesConfig(value: unknown, source = 'registries.json'): RegistriesConfig {
  if (value === undefined || value === null) return emptyRegistriesConfig();
  if (!isObject(value)) throw bad('(top level)', 'must be an object with "mirrors" and/or "configs"', source);
  checkKeys(value, ['mirrors', 'configs'], '(top level)', source);
  const config = emptyRegistriesConfig();

  if (value.configs !== undefined) {
    if (!isObject(value.configs)) throw bad('configs', 'must be an object keyed by registry host[:port]', source);
    for (const [host, raw] of Object.entries(value.configs)) {
      const field = `configs["${host}"]`;
      if (!/^[a-zA-Z0-9.\-[\]:]+$/.test(host)) throw bad(field, 'key must be a host or host:port', source);
      if (!isObject(raw)) throw bad(field, 'must be an object', source);
      checkKeys(raw, ['auth', 'insecure'], field, source);
      const entry: RegistryHostConfig = {};
      if (raw.auth !== undefined) entry.auth = parseAuth(raw.auth, `${field}.auth`, source);
      if (raw.insecure !== undefined) {
        if (typeof raw.insecure !== 'boolean') throw bad(`${field}.insecure`, 'must be true or false', source);
        entry.insecure = raw.insecure;
      }
      config.configs[host.toLowerCase()] = entry;
    }
  }

  if (value.mirrors !== undefined) {
    if (!isObject(value.mirrors)) throw bad('mirrors', 'must be an object keyed by registry name (e.g. "docker.io")', source);
    for (const [registry, raw] of Object.entries(value.mirrors)) {
      const field = `mirrors["${registry}"]`;
      if (!isObject(raw)) throw bad(field, 'must be an object with an "endpoints" list', source);
      checkKeys(raw, ['endpoints'], field, source);
      if (!Array.isArray(raw.endpoints)) throw bad(`${field}.endpoints`, 'must be a list of URLs', source);
      const endpoints = raw.endpoints.map((e, i) => {
        const url = parseEndpoint(e, `${field}.endpoints[${i}]`, source);
        if (url.protocol === 'http:' && !isLoopbackHost(url.host) && !config.configs[url.host.toLowerCase()]?.insecure) {
          throw new GroveError(
            ErrorCode.InsecureRegistry,
            `${source}: ${field}.endpoints[${i}] uses plain http to ${url.host}; mark it configs["${url.host}"].insecure = true to allow`,
            { details: { field: `${field}.endpoints[${i}]`, host: url.host } },
          );
        }
        return url.href.replace(/\/+$/, '').replace(/\/v2$/, '');
      });
      config.mirrors[registry.toLowerCase()] = { endpoints };
    }
  }
  return config;
}

/** Reads `<data-dir>/registries.json`; a missing file is an empty config. */
export async function loadRegistriesConfig(file: string): Promise<RegistriesConfig> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistriesConfig();
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseRegistriesConfig(value, file);
}

function hostConfig(config: RegistriesConfig, host: string): RegistryHostConfig | undefined {
  return config.configs[host.toLowerCase()];
}

/**
 * Where to send requests for `registry`, in order: its mirrors (or the "*" mirrors), then the
 * origin. docker.io's origin is registry-1.docker.io; other origins use https unless the host
 * is loopback or marked insecure, in which case they use plain http.
 */
export function resolveEndpoints(config: RegistriesConfig, registry: string): RegistryEndpoint[] {
  const key = registry.toLowerCase();
  const out: RegistryEndpoint[] = [];
  const mirror = config.mirrors[key] ?? config.mirrors['*'];
  for (const raw of mirror?.endpoints ?? []) {
    const url = new URL(raw);
    const conf = hostConfig(config, url.host);
    if (url.protocol === 'http:' && !isLoopbackHost(url.host) && !conf?.insecure) {
      throw new GroveError(ErrorCode.InsecureRegistry, `refusing plain http to mirror ${url.host} (not loopback, not marked insecure)`, {
        details: { host: url.host },
      });
    }
    out.push({ url: raw.replace(/\/+$/, ''), host: url.host, mirror: true, ...(conf?.auth ? { auth: conf.auth } : {}) });
  }
  if (key === DOCKER_HUB) {
    const conf = hostConfig(config, DOCKER_HUB) ?? hostConfig(config, 'registry-1.docker.io') ?? hostConfig(config, 'index.docker.io');
    out.push({ url: DOCKER_HUB_ORIGIN, host: 'registry-1.docker.io', mirror: false, ...(conf?.auth ? { auth: conf.auth } : {}) });
  } else {
    const conf = hostConfig(config, key);
    const scheme = isLoopbackHost(key) || conf?.insecure ? 'http' : 'https';
    out.push({ url: `${scheme}://${key}`, host: key, mirror: false, ...(conf?.auth ? { auth: conf.auth } : {}) });
  }
  return out;
}
