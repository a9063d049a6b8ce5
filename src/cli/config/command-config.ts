/**
 * A command's configuration, built once when it runs: the option tables of the program, the
 * role and the verb (root first), each resolved from the command line, the GROVE_* variables,
 * the YAML config file and the defaults. The file is read once, from the path the role's
 * --config names, else $GROVE_CONFIG_FILE, else /etc/grove/config.yaml when present.
 */
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { addOptions, givenFlags } from './commander-options.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import type { Environment } from './environment.js';
import type { OptionTable, Values } from './option.js';
import { fileKey, resolveTable, type Origin, type Resolved } from './resolve.js';
import { CONFIG_FILE_OPTION, GLOBAL_OPTIONS, ROLE_TABLES } from './role-options.js';

/** Which option table each command declares (its flags are made from it). */
export class CommandTables {
  private readonly tables = new WeakMap<Command, OptionTable>();

  declare(command: Command, table: OptionTable): void {
    addOptions(command, table);
    this.tables.set(command, table);
  }

  of(command: Command): OptionTable | undefined {
    return this.tables.get(command);
  }
}

export interface CommandConfig {
  /** Resolved tables, the program's first, the running command's last. */
  readonly chain: readonly Resolved<OptionTable>[];
  /** The YAML file the values were read from, if there was one. */
  readonly file: ConfigFile | undefined;
  readonly filePath: { readonly path: string; readonly origin: Origin };
  /** One line per deprecated variable in use, for the log once there is one. */
  readonly warnings: readonly string[];
  /** The values of a table declared on the running command or above it. */
  get<T extends OptionTable>(table: T): Values<T>;
  /** Where one of those values came from (undefined: nothing set it and it has no default). */
  origin<T extends OptionTable>(table: T, key: keyof T & string): Origin | undefined;
}

/** Every key the YAML file may hold: the flags of the role tables that declare file keys. */
export function knownFileKeys(): Set<string> {
  const keys = new Set<string>();
  for (const { table } of ROLE_TABLES) for (const [key, spec] of Object.entries(table)) if (spec.file) keys.add(fileKey(key, spec));
  return keys;
}

function commandChain(command: Command): Command[] {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  return chain;
}

/** The long-running roles log at info and tune their heap; their sub-verbs (fsck, backup) do not. */
export function isDaemon(command: Command): boolean {
  return command.parent?.parent === null && (command.name() === 'server' || command.name() === 'agent');
}

/** Where the YAML file is: the role's --config, else $GROVE_CONFIG_FILE, else the default. */
function configFilePath(chain: Command[], tables: CommandTables, env: Environment): { path: string; origin: Origin } {
  const role = chain.find((c) => tables.of(c)?.config === CONFIG_FILE_OPTION);
  if (role) {
    const root = chain[0]!;
    // `grove --config x server`: before the role, --config means a client config.
    if (root.getOptionValueSource('config') === 'cli') {
      throw new GroveError(ErrorCode.InvalidArgument, `--config before "${role.name()}" names a client config: write grove ${role.name()} --config FILE for its configuration file`);
    }
  }
  const table = { config: CONFIG_FILE_OPTION };
  const resolved = resolveTable(table, { flags: role ? givenFlags(role, table) : new Map(), env });
  return { path: resolved.values.config, origin: resolved.origins.config ?? { from: 'default' } };
}

export async function resolveCommand(command: Command, tables: CommandTables, env: Environment): Promise<CommandConfig> {
  const chain = commandChain(command);
  const filePath = configFilePath(chain, tables, env);
  const file = await readConfigFile(filePath.path, filePath.origin.from !== 'default', knownFileKeys());
  const daemon = isDaemon(command);
  const warnings: string[] = [];
  const resolved: Resolved<OptionTable>[] = [];
  const find = (table: OptionTable): Resolved<OptionTable> => {
    const found = resolved.find((r) => r.table === table);
    if (!found) throw new GroveError(ErrorCode.Internal, `command ${command.name()} has no such option table`);
    return found;
  };
  for (const c of chain) {
    const table = tables.of(c);
    if (table) resolved.push(resolveTable(table, { flags: givenFlags(c, table), env, ...(file ? { file } : {}), daemon }, warnings));
  }
  return {
    chain: resolved,
    file,
    filePath,
    warnings,
    get<T extends OptionTable>(table: T): Values<T> {
      return find(table).values as Values<T>;
    },
    origin<T extends OptionTable>(table: T, key: keyof T & string): Origin | undefined {
      return find(table).origins[key];
    },
  };
}

/** The program's own options (data dir, log level, …): every command has them. */
export function globalValues(config: CommandConfig): Values<typeof GLOBAL_OPTIONS> {
  return config.get(GLOBAL_OPTIONS);
}
