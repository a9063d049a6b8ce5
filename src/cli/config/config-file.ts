/**
 * The optional YAML configuration file, k3s style: /etc/grove/config.yaml unless
 * `grove server|agent --config FILE` or $GROVE_CONFIG_FILE names another. Its keys are the flag
 * names without the dashes (`restart-backoff: 30s`, `label: [zone=a, tier=edge]`, `tls: true`);
 * each command takes the keys its options declare and leaves the others to the other roles. A
 * key no role knows is an error (a typo must not pass silently), with the nearest known key.
 */
import { open } from 'node:fs/promises';
import { closest } from '../../core/did-you-mean.js';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';

export const DEFAULT_CONFIG_FILE = '/etc/grove/config.yaml';
const MAX_CONFIG_FILE_BYTES = 64 * 1024;

export interface ConfigFile {
  readonly path: string;
  /** Key → value as YAML gave it (a scalar or a list; the option's unit checks it). */
  readonly values: ReadonlyMap<string, unknown>;
}

function problem(path: string, message: string, cause?: unknown): GroveError {
  return new GroveError(ErrorCode.ConfigInvalid, `config file ${path}: ${message}`, { ...(cause ? { cause } : {}), details: { file: path } });
}

async function readLimited(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw problem(path, 'not a regular file');
    if (st.size > MAX_CONFIG_FILE_BYTES) throw problem(path, `larger than ${MAX_CONFIG_FILE_BYTES / 1024} KiB`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Reads the file at `path`. A missing (or, for the default path, unreadable) file is no file
 * when `named` is false; when someone named the file, it must be there.
 */
export async function readConfigFile(path: string, named: boolean, knownKeys: ReadonlySet<string>): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readLimited(path);
  } catch (err) {
    if (err instanceof GroveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // A user without access to the system's file (client verbs run as anyone) goes without it.
    if (!named && (code === 'ENOENT' || code === 'EACCES')) return undefined;
    throw problem(path, code === 'ENOENT' ? 'not found' : `cannot read: ${errorMessage(err)}`, err);
  }
  return { path, values: await parseConfigText(text, path, knownKeys) };
}

/** The file's keys and values; one line naming the file for anything wrong. */
export async function parseConfigText(text: string, path: string, knownKeys: ReadonlySet<string>): Promise<ReadonlyMap<string, unknown>> {
  // Loaded only when there is a file: most runs have none.
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    // Aliases are refused: a few lines of them can expand to gigabytes.
    doc = parse(text, { maxAliasCount: 0 });
  } catch (err) {
    throw problem(path, `not valid YAML: ${errorMessage(err).split('\n')[0]}`, err);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw problem(path, 'must be a mapping of option names to values (e.g. "node-grace: 40s")');
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(doc)) {
    if (!knownKeys.has(key)) {
      const near = closest(key.replace(/^--?/, ''), knownKeys);
      throw problem(path, `unknown key "${key}"${near ? ` (did you mean ${near}?)` : ''}`);
    }
    values.set(key, value);
  }
  return values;
}
