/**
 * An option, declared once: its flag, its GROVE_* variable, its key in the YAML config file, its
 * unit, its default and what it is for. Tables of them (a role's, a verb's) generate the
 * commander flags (commander-options.ts), resolve into one frozen typed object per command
 * (resolve.ts), print for --print-config and document themselves (docs/operations.md).
 */
import type { HostFacts } from './environment.js';
import { boolean, type ListUnit, type Unit } from './units.js';

/** What a computed default may look at. */
export interface DefaultContext {
  readonly host: HostFacts;
  /** The command is a long-running role (`grove server`, `grove agent`). */
  readonly daemon: boolean;
  /** The options of the same table resolved before this one (declaration order). */
  readonly earlier: Readonly<Record<string, unknown>>;
}

export type Default<T> = NoInfer<T> | ((ctx: DefaultContext) => NoInfer<T>);

/** A variable of an earlier release whose unit differed: still read, with a warning, for one release. */
export interface DeprecatedVariable<T> {
  readonly name: string;
  /** Reads its value into the option's unit. */
  parse(raw: string, where: string): T;
  /** How to write it now, for the warning: "GROVE_RESTART_BACKOFF=10s". */
  readonly instead: string;
}

export interface OptionFields<T> {
  readonly unit: Unit<T>;
  readonly description: string;
  /** The long flag without dashes; default: the option's key in kebab case (restartBackoff → restart-backoff). */
  readonly flag?: string;
  /** A one-letter alias: '-m'. */
  readonly short?: string;
  /** Help's value placeholder, when the unit's says too little: `<k=v>`. */
  readonly placeholder?: string;
  /** Its GROVE_* variable. */
  readonly env?: string;
  readonly deprecatedEnv?: DeprecatedVariable<T>;
  /** Read from the YAML config file too, under the flag's name. */
  readonly file?: boolean;
  /** Never printed (--print-config shows <redacted>). */
  readonly secret?: boolean;
  /** A switch that is on unless turned off: the flag is --no-<flag>, the variable and file key say true/false. */
  readonly negate?: boolean;
  readonly default?: Default<T>;
  /** How docs and help show a computed default: "hostname". */
  readonly defaultText?: string;
}

/** `Has` is true when the option always has a value (a default, a switch, a list). */
export interface OptionSpec<T, Has extends boolean = boolean> extends OptionFields<T> {
  /** Type-level only: whether the resolved value can be undefined. */
  readonly always?: Has;
}

export function option<T>(fields: OptionFields<T> & { default: Default<T> }): OptionSpec<T, true>;
export function option<T>(fields: OptionFields<T>): OptionSpec<T, false>;
export function option<T>(fields: OptionFields<T>): OptionSpec<T> {
  return fields;
}

/** A switch (--tls): off unless given. */
export function onOff(fields: Omit<OptionFields<boolean>, 'unit' | 'default'>): OptionSpec<boolean, true> {
  return { ...fields, unit: boolean, default: fields.negate === true };
}

/** A repeatable option: empty unless given. */
export function many<T>(fields: OptionFields<T> & { unit: ListUnit<T> }): OptionSpec<T, true> {
  return { default: fields.unit.empty, ...fields };
}

/** Options of every type side by side (Unit<T> is invariant in T, hence any). */
export type OptionTable = Readonly<Record<string, OptionSpec<any>>>;

type ValueOf<S> = S extends OptionSpec<infer T, infer Has> ? ([Has] extends [true] ? T : T | undefined) : never;

/** A table's resolved, typed values. */
export type Values<T extends OptionTable> = { readonly [K in keyof T]: ValueOf<T[K]> };

/** The long flag's name: the given one, else the key in kebab case. */
export function flagName(key: string, spec: OptionSpec<unknown>): string {
  return spec.flag ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** How a flag is written in messages and help: `--restart-backoff`, `--no-agent`. */
export function flagText(key: string, spec: OptionSpec<unknown>): string {
  return `--${spec.negate ? 'no-' : ''}${flagName(key, spec)}`;
}
