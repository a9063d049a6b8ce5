/**
 * Where `grove agent` takes its join token from, keeping it out of the process list: `ps`
 * shows every process's argv to every user, so `--token` is accepted but warned about, and
 * `--token-file FILE` / `$GROVE_TOKEN_FILE` (what install.sh writes) or `$GROVE_TOKEN` are
 * the ways to pass it.
 */
import { open } from 'node:fs/promises';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/** A token is ~120 characters; anything much longer is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 4096;

export interface JoinTokenOptions {
  /** The token option's value and where it came from: `--token` (argv: visible in ps), $GROVE_TOKEN or the config file. */
  token?: { value: string; source: string; flag: boolean } | undefined;
  /** --token-file, $GROVE_TOKEN_FILE or the config file's token-file. */
  tokenFile?: string | undefined;
}

export interface JoinTokenChoice {
  token: string;
  /** Where it came from, for messages (never the token itself). */
  source: string;
}

/**
 * The token for a join, or undefined when none is given. `--token` wins, then the token file
 * (however it was named), then the token from $GROVE_TOKEN or the config file. Reads the file
 * only when called, i.e. only when the agent is about to join: after the first join the file
 * may be gone.
 */
export async function chooseJoinToken(options: JoinTokenOptions, logger: Logger): Promise<JoinTokenChoice | undefined> {
  const { token, tokenFile } = options;
  if (token?.flag) {
    logger.warn('--token shows the join token to every user in the process list (ps): use --token-file FILE or $GROVE_TOKEN instead');
    return { token: token.value, source: token.source };
  }
  if (tokenFile !== undefined) return { token: await readTokenFile(tokenFile, logger), source: tokenFile };
  return token ? { token: token.value, source: token.source } : undefined;
}

/** The first line of a token file, checked for size; warns when others may read it. */
export async function readTokenFile(file: string, logger: Logger): Promise<string> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new GroveError(ErrorCode.InvalidArgument, `join token file ${file} is not a regular file`);
      if (st.size > MAX_TOKEN_FILE_BYTES) throw new GroveError(ErrorCode.InvalidArgument, `join token file ${file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes: not a join token`);
      if ((st.mode & 0o077) !== 0) logger.warn({ file }, 'join token file is readable by other users: chmod 600 it');
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof GroveError) throw err;
    throw new GroveError(ErrorCode.InvalidArgument, `cannot read the join token file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const token = text.split('\n')[0]!.trim();
  if (token === '') throw new GroveError(ErrorCode.InvalidArgument, `join token file ${file} is empty`);
  return token;
}
