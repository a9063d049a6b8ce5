/**
 * Resolves an option table into one frozen, typed object, each value from the first source that
 * has it: the flag, then the GROVE_* variable (then a deprecated variable, with a warning), then
 * the YAML config file, then the default. Each value remembers where it came from, for
 * --print-config and for the rare choice that depends on it (a join token given as a flag).
 */
import type { ConfigFile } from './config-file.js';
import type { Environment } from './environment.js';
import { flagText, type DefaultContext, type OptionSpec, type OptionTable, type Values } from './option.js';

export type Origin =
  | { readonly from: 'flag'; readonly name: string }
  | { readonly from: 'env'; readonly name: string; readonly deprecated?: true }
  | { readonly from: 'file'; readonly path: string; readonly key: string }
  | { readonly from: 'default' };

export interface Resolved<T extends OptionTable> {
  readonly table: T;
  readonly values: Values<T>;
  /** Where each value came from; absent for an option nothing set and with no default. */
  readonly origins: { readonly [K in keyof T]?: Origin };
}

export interface ResolveInput {
  /** Raw values of the flags given on the command line, by option key. */
  readonly flags: ReadonlyMap<string, unknown>;
  readonly env: Environment;
  readonly file?: ConfigFile;
  readonly daemon?: boolean;
}

/** How an origin is named in messages and --print-config. */
export function originText(origin: Origin): string {
  switch (origin.from) {
    case 'flag':
      return origin.name;
    case 'env':
      return `$${origin.name}${origin.deprecated ? ' (deprecated)' : ''}`;
    case 'file':
      return origin.path;
    case 'default':
      return 'default';
  }
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The YAML key of an option: its flag's name, without the dashes and without "no-". */
export function fileKey(key: string, spec: OptionSpec<unknown>): string {
  return flagText(key, { ...spec, negate: false }).slice(2);
}

function resolveOne(key: string, spec: OptionSpec<unknown>, input: ResolveInput, earlier: Record<string, unknown>, warnings: string[]): { value: unknown; origin: Origin } | undefined {
  if (input.flags.has(key)) {
    const name = flagText(key, spec);
    // A switch's flag says it all: --tls turns it on, --no-agent off.
    const raw = input.flags.get(key);
    return { value: spec.unit.switch ? raw === true : spec.unit.parse(raw, name), origin: { from: 'flag', name } };
  }
  const fromEnv = spec.env ? input.env.variable(spec.env) : undefined;
  if (spec.env && fromEnv !== undefined) return { value: spec.unit.parse(fromEnv, spec.env), origin: { from: 'env', name: spec.env } };
  const old = spec.deprecatedEnv;
  const fromOld = old ? input.env.variable(old.name) : undefined;
  if (old && fromOld !== undefined) {
    warnings.push(`${old.name} is deprecated and goes away in the next release: set ${old.instead} instead`);
    return { value: old.parse(fromOld, old.name), origin: { from: 'env', name: old.name, deprecated: true } };
  }
  const name = fileKey(key, spec);
  if (spec.file && input.file?.values.has(name)) {
    return { value: spec.unit.parse(input.file.values.get(name), `${input.file.path}: ${name}`), origin: { from: 'file', path: input.file.path, key: name } };
  }
  if (spec.default === undefined) return undefined;
  const ctx: DefaultContext = { host: input.env.host, daemon: input.daemon === true, earlier };
  const value = typeof spec.default === 'function' ? (spec.default as (c: DefaultContext) => unknown)(ctx) : spec.default;
  return { value: structuredClone(value), origin: { from: 'default' } };
}

/** Resolves every option of `table`; `warnings` gets one line per deprecated variable in use. */
export function resolveTable<T extends OptionTable>(table: T, input: ResolveInput, warnings: string[] = []): Resolved<T> {
  const values: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const [key, spec] of Object.entries(table)) {
    const got = resolveOne(key, spec, input, values, warnings);
    if (!got) continue;
    values[key] = got.value;
    origins[key] = got.origin;
  }
  return { table, values: deepFreeze(values) as Values<T>, origins: Object.freeze(origins) };
}
