/**
 * Env files as docker compose reads them (the project's `.env`, `--env-file`, a service's
 * `env_file:`): `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments, blank lines; a value in
 * single quotes is literal, one in double quotes knows \n \t \" \\ and `$` interpolation, an
 * unquoted one is trimmed and loses a ` #comment`; quoted values may span lines. A bare `KEY`
 * takes the applying shell's value (and is left out when that is unset). Pure: the CLI reads
 * the files (ComposeHost) and this turns their text into variables.
 */
import { ComposeTextError, interpolate, type Variables } from './compose-text.js';

/** An env file larger than this is refused: real ones are a few KiB. */
export const MAX_ENV_FILE_BYTES = 256 * 1024;
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A problem in an env file, at a 1-based line. */
export class EnvFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** One value of a double-quoted string with its escapes resolved. */
function unescapeDouble(raw: string): string {
  return raw.replace(/\\([nrt"\\$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

/** The closing quote of a value starting at `from` (after the opening one), honouring backslashes in double quotes. */
function closingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/**
 * The variables of an env file, in order (a later line wins). `outer` answers `$` references and
 * bare keys (the shell's environment); values defined earlier in the file are seen first.
 */
export function parseEnvFile(text: string, outer: Variables): Map<string, string> {
  if (Buffer.byteLength(text, 'utf8') > MAX_ENV_FILE_BYTES) throw new EnvFileError(1, `is larger than ${MAX_ENV_FILE_BYTES / 1024} KiB`);
  const out = new Map<string, string>();
  const vars: Variables = { get: (n) => out.get(n) ?? outer.get(n), unset: (n) => outer.unset?.(n) };
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  let pos = 0;
  while (pos < text.length) {
    const start = pos;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end).replace(/\r$/, '');
    pos = end + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    line = trimmed.replace(/^export\s+/, '');
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    const lineNo = lineAt(start);
    if (!KEY.test(key)) throw new EnvFileError(lineNo, `${JSON.stringify(key.slice(0, 64))} is not a variable name (letters, digits and _, not starting with a digit)`);
    if (eq < 0) {
      const value = outer.get(key);
      if (value !== undefined) out.set(key, value);
      continue;
    }
    let rest = line.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // The value may go on over the next lines: look for its closing quote in the whole text.
      const valueStart = text.indexOf(quote, start + text.slice(start).indexOf('=') + 1) + 1;
      const close = closingQuote(text, valueStart, quote);
      if (close < 0) throw new EnvFileError(lineNo, `the value of ${key} has no closing ${quote === '"' ? 'double' : 'single'} quote`);
      const raw = text.slice(valueStart, close);
      const after = text.indexOf('\n', close);
      const tail = text.slice(close + 1, after < 0 ? text.length : after).trim();
      if (tail !== '' && !tail.startsWith('#')) throw new EnvFileError(lineAt(close), `unexpected ${JSON.stringify(tail.slice(0, 32))} after the quoted value of ${key}`);
      pos = after < 0 ? text.length : after + 1;
      out.set(key, quote === "'" ? raw : withVariables(unescapeDouble(raw), vars, lineNo));
      continue;
    }
    const comment = rest.search(/\s#/);
    if (comment >= 0) rest = rest.slice(0, comment);
    out.set(key, withVariables(rest.trim(), vars, lineNo));
  }
  return out;
}

function withVariables(value: string, vars: Variables, line: number): string {
  try {
    return interpolate(value, vars);
  } catch (err) {
    if (err instanceof ComposeTextError) throw new EnvFileError(line, err.message);
    throw err;
  }
}

/**
 * The variables a compose file is interpolated with: the shell's environment over the env
 * files' (compose: the shell wins), each unset name warned once through `warn`.
 */
export function projectVariables(shell: Readonly<Record<string, string | undefined>>, files: ReadonlyMap<string, string>, warn: (name: string) => void): Variables {
  const warned = new Set<string>();
  return {
    get: (name) => (Object.hasOwn(shell, name) ? shell[name] : undefined) ?? files.get(name),
    unset: (name) => {
      if (warned.has(name)) return;
      warned.add(name);
      warn(name);
    },
  };
}
