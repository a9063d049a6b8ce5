/**
 * What docker compose does to a file before it reads any service field: the project's variables
 * (the shell's environment over `.env` or `--env-file`), `extends`, `$` interpolation (unset
 * variables empty and warned once), a null field read as unset, `env_file` merged under
 * `environment`, and `profiles`. The files it reads (.env, env_file, an extended file) come
 * through the injected ComposeHost: the core stays pure, the CLI reads them at apply time.
 */
import { isAbsolute, posix } from 'node:path';
import { EnvFileError, parseEnvFile, projectVariables } from './compose-env.js';
import { ErrorCode, isGroveError } from '../errors.js';
import type { Variables } from './compose-text.js';
import { isObject } from './compose-service.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';
import { readYamlDocuments } from './parse.js';
import { problemOf, type ManifestProblem } from './problems.js';

/** The applying machine, as the compose translation may see it (the CLI's; tests give their own). */
export interface ComposeHost {
  /** The shell's environment: it wins over the env files, as in docker compose. */
  environment: Readonly<Record<string, string | undefined>>;
  /** `--env-file` paths (absolute): read instead of the project's `.env`. */
  envFiles?: readonly string[];
  /** A file's text, or undefined when it does not exist (other errors throw a GroveError). */
  readText(path: string): string | undefined;
  /** `--profile`: the services of these profiles run too (those without profiles always do). */
  profiles?: readonly string[];
  /** `grove compose -p NAME`: the project name instead of the file's `name:` or directory. */
  project?: string;
}

export const NO_HOST: ComposeHost = { environment: {}, readText: () => undefined };

/** How deep `extends` may chain (a → b → c …): deeper is a mistake or a loop. */
const MAX_EXTENDS_DEPTH = 8;

type Obj = Record<string, unknown>;

/** A problem in a file that is not a YAML document of the run (.env, env_file): `file:line: message`. */
function fileProblem(file: string, line: number | undefined, message: string): ManifestProblem {
  return { text: `${file}${line === undefined ? '' : `:${line}`}: ${message}`, file, ...(line === undefined ? {} : { line }) };
}

/** The project's variables; an unreadable or invalid env file is a problem. */
export function readProjectVariables(host: ComposeHost, dir: string | undefined, problems: ManifestProblem[], warnings: string[]): Variables {
  const files = host.envFiles ?? (dir === undefined ? [] : [posix.join(dir, '.env')]);
  const merged = new Map<string, string>();
  const shell: Variables = { get: (n) => (Object.hasOwn(host.environment, n) ? host.environment[n] : undefined) };
  for (const file of files) {
    const text = host.readText(file);
    if (text === undefined) {
      // The project's .env is optional; a file named with --env-file is not.
      if (host.envFiles) problems.push(fileProblem(file, undefined, 'no such env file (--env-file)'));
      continue;
    }
    try {
      for (const [k, v] of parseEnvFile(text, { get: (n) => shell.get(n) ?? merged.get(n) })) merged.set(k, v);
    } catch (err) {
      if (!(err instanceof EnvFileError)) throw err;
      problems.push(fileProblem(file, err.line, err.message));
    }
  }
  return projectVariables(host.environment, merged, (name) => warnings.push(`The "${name}" variable is not set. Defaulting to a blank string.`));
}

/** Fields whose lists add up when a service extends another (compose's merge rules); the rest replace. */
const APPENDED = new Set(['ports', 'expose', 'dns', 'dns_search', 'tmpfs', 'cap_add', 'cap_drop', 'security_opt', 'volumes', 'devices', 'extra_hosts', 'env_file', 'secrets', 'configs', 'group_add', 'links', 'external_links']);
/** Fields given as a list of K=V or a map: merged key by key. */
const KEYED = new Set(['environment', 'labels', 'sysctls', 'extra_hosts_map']);
/** Fields that are one value even when written as a list. */
const REPLACED = new Set(['command', 'entrypoint']);

function keyed(value: unknown): Obj {
  if (isObject(value)) return { ...value };
  if (!Array.isArray(value)) return {};
  const out: Obj = {};
  for (const entry of value) {
    const s = String(entry);
    const eq = s.indexOf('=');
    out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? null : s.slice(eq + 1);
  }
  return out;
}

/** `override` over `base` as compose merges an extended service. */
export function mergeService(base: Obj, override: Obj, field?: string): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    if (field === undefined && KEYED.has(k) && b !== undefined) out[k] = { ...keyed(b), ...keyed(v) };
    else if (field === undefined && APPENDED.has(k) && Array.isArray(b) && Array.isArray(v)) {
      const seen = new Set(b.map((x) => JSON.stringify(x)));
      out[k] = [...b, ...v.filter((x) => !seen.has(JSON.stringify(x)))];
    } else if (!REPLACED.has(k) && isObject(b) && isObject(v)) out[k] = mergeService(b, v, k);
    else out[k] = v;
  }
  return out;
}

interface ExtendsSource {
  services: Obj;
  dir: string | undefined;
  file: string;
}

/** A service with its `extends` chain resolved (the base's own extends first); problems at the service's extends. */
function resolveExtends(ctx: DocContext, name: string, service: Obj, source: ExtendsSource, host: ComposeHost, depth: number): Obj {
  const ext = service.extends;
  if (ext === undefined) return service;
  const at: FieldPath = ['services', name, 'extends'];
  if (depth >= MAX_EXTENDS_DEPTH) throw manifestError(ctx, at, `extends more than ${MAX_EXTENDS_DEPTH} services deep (is there a loop?)`);
  const spec = typeof ext === 'string' ? { service: ext } : isObject(ext) ? ext : undefined;
  if (!spec || typeof spec.service !== 'string' || (spec.file !== undefined && typeof spec.file !== 'string')) {
    throw manifestError(ctx, at, 'must be a service name or {service: NAME, file: PATH}');
  }
  let from = source;
  if (spec.file !== undefined) {
    const file = spec.file as string;
    if (!isAbsolute(file) && source.dir === undefined) throw manifestError(ctx, [...at, 'file'], `${quote(file)} is relative and the compose file's directory is unknown (stdin)`);
    const path = isAbsolute(file) ? file : posix.resolve(source.dir!, file);
    const content = host.readText(path);
    if (content === undefined) throw manifestError(ctx, [...at, 'file'], `${quote(file)}: no such file`);
    const { documents, problems } = readYamlDocuments(content, path);
    const services = documents[0] && isObject(documents[0].value) && isObject(documents[0].value.services) ? documents[0].value.services : undefined;
    if (problems.length || !services) throw manifestError(ctx, [...at, 'file'], `${quote(file)} is not a compose file with services${problems[0] ? `: ${problems[0].message}` : ''}`);
    from = { services, dir: posix.dirname(path), file: path };
  }
  const baseName = spec.service as string;
  const base = from.services[baseName];
  if (!isObject(base)) throw manifestError(ctx, [...at, ...(typeof ext === 'string' ? [] : ['service'])], `${quote(baseName)} is not a service of ${from === source ? 'this file' : quote(spec.file)}`);
  if (from === source && baseName === name) throw manifestError(ctx, at, 'a service cannot extend itself');
  const resolvedBase = resolveExtends(ctx, baseName, base, from, host, depth + 1);
  const { extends: _drop, ...own } = service;
  // What the base never passes on (compose): its dependencies, links and volumes_from.
  const { depends_on: _deps, links: _links, volumes_from: _from, ...inherited } = resolvedBase;
  return mergeService(inherited, own);
}

/** Top-level fields of a service written as null are unset (`privileged:` with no value), as compose reads them. */
function withoutNulls(service: Obj): Obj {
  return Object.fromEntries(Object.entries(service).filter(([, v]) => v !== null));
}

/** Each service's raw value, nulls dropped and `extends` resolved; a service with a problem is left out (and named in `bad`). */
export function expandServices(services: Obj, dir: string | undefined, file: string, ctxFor: (name: string) => DocContext, host: ComposeHost, problems: ManifestProblem[], bad: Set<string>): Obj {
  const out: Obj = {};
  const source: ExtendsSource = { services, dir, file };
  for (const [name, s] of Object.entries(services)) {
    if (!isObject(s)) {
      out[name] = s;
      continue;
    }
    try {
      out[name] = withoutNulls(resolveExtends(ctxFor(name), name, withoutNulls(s), source, host, 0));
    } catch (err) {
      const p = problemFrom(err);
      problems.push(p);
      bad.add(name);
    }
  }
  return out;
}

function problemFrom(err: unknown): ManifestProblem {
  if (isGroveError(err) && err.code === ErrorCode.ManifestInvalid) return problemOf(err);
  throw err;
}

/** env_file as written: a path, a list of paths, or a list of {path, required}. */
function envFileEntries(ctx: DocContext, at: FieldPath, value: unknown): { path: string; required: boolean; at: FieldPath }[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((e, i) => {
    const where = Array.isArray(value) ? [...at, i] : at;
    if (typeof e === 'string') return { path: e, required: true, at: where };
    if (isObject(e) && typeof e.path === 'string' && (e.required === undefined || typeof e.required === 'boolean')) return { path: e.path, required: e.required !== false, at: where };
    throw manifestError(ctx, where, 'must be a path or {path: PATH, required: true|false}');
  });
}

/**
 * A service's `environment` with its `env_file`s under it (files in order, then `environment:`
 * wins), each file read now, relative to the project directory; bare names take the project's
 * variables and are left out when unset, as compose does.
 */
export function serviceEnvironment(ctx: DocContext, base: FieldPath, s: Obj, dir: string | undefined, host: ComposeHost, vars: Variables): Record<string, string> | undefined {
  if (s.env_file === undefined && s.environment === undefined) return undefined;
  const out: Record<string, string> = {};
  if (s.env_file !== undefined) {
    for (const entry of envFileEntries(ctx, [...base, 'env_file'], s.env_file)) {
      if (!isAbsolute(entry.path) && dir === undefined) throw manifestError(ctx, entry.at, `${quote(entry.path)} is relative and the compose file's directory is unknown (stdin): write an absolute path`);
      const path = isAbsolute(entry.path) ? entry.path : posix.resolve(dir!, entry.path);
      const content = host.readText(path);
      if (content === undefined) {
        if (entry.required) throw manifestError(ctx, entry.at, `${quote(entry.path)}: no such file (read from the machine that applies; required: false makes it optional)`);
        continue;
      }
      try {
        for (const [k, v] of parseEnvFile(content, vars)) out[k] = v;
      } catch (err) {
        if (!(err instanceof EnvFileError)) throw err;
        throw manifestError(ctx, entry.at, `${path}:${err.line}: ${err.message}`, { cause: err });
      }
    }
  }
  const env = s.environment;
  const set = (name: string, value: string | null | undefined) => {
    const v = value ?? vars.get(name);
    if (v === undefined) delete out[name];
    else out[name] = v;
  };
  if (Array.isArray(env)) {
    env.forEach((entry, i) => {
      const e = String(entry);
      const eq = e.indexOf('=');
      if (eq === 0) throw manifestError(ctx, [...base, 'environment', i], `${quote(e)} has no variable name`);
      set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? undefined : e.slice(eq + 1));
    });
  } else if (isObject(env)) {
    for (const [k, v] of Object.entries(env)) set(k, v === null ? undefined : String(v));
  }
  return out;
}

/** Whether a service runs with these profiles active (a service without profiles always does). */
export function profileActive(s: Obj, active: readonly string[]): boolean {
  const own = s.profiles;
  if (!Array.isArray(own) || own.length === 0) return true;
  return own.some((p) => active.includes(String(p)));
}

