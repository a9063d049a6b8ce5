/**
 * Files for running Grove against an external Mosquitto (2.0) instead of the embedded broker:
 * mosquitto.conf, a password file and an ACL file equivalent to acl.ts.
 *
 * The password file uses Mosquitto 2.0's `$7$` format (PBKDF2-HMAC-SHA512, 101 iterations,
 * 12-byte salt), computed here rather than with `mosquitto_passwd -b`, which would put every
 * password on a command line (visible in /proc) and need the tool installed.
 *
 * The server knows a node's password only while the node joins, so a user listed without a
 * password keeps the line it already has in the existing password file.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { networkTopics, validateName } from '../../core/topics.js';
import { SERVER_USERNAME, parseNodeUsername } from './credentials.js';
import { clusterRoot, nodeTopicsFor } from './acl.js';
import { ensureDir, readOptional, writeFileAtomic } from './files.js';
import { DEFAULT_MAX_PACKET_BYTES } from '../broker/packet-guard.js';

const PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

export interface MosquittoUser {
  username: string;
  /** Omit to keep the user's existing line in the password file. */
  password?: string;
  /** Its `$7$` hash, when the caller already has it (no hashing, no reading the old file). */
  hash?: string;
}

export interface MosquittoFilesOptions {
  cluster: string;
  users: MosquittoUser[];
  listener: { host: string; port: number };
  /** Written next to the config as server.crt (0644) and server.key (0600). */
  tls?: { certPem: string; keyPem: string };
  maxPacketBytes?: number;
  pidFile?: string;
  /** Mosquitto's `user` option: whom it drops privileges to when started as root. */
  runAsUser?: string;
}

export interface MosquittoFiles {
  configPath: string;
  passwordFile: string;
  aclFile: string;
  /** Users listed without a password and absent from the old password file: they cannot log in. */
  missingPasswords: string[];
  /** username → the `$7$` hash written for it (callers keep it to skip re-reading the file). */
  hashes: Map<string, string>;
}

/**
 * Iterations for a node's password: it is 256 random bits (credentials.ts), so key stretching
 * protects nothing, while it costs the server ~0.3 ms per join and Mosquitto as much per
 * connected client on every reload (it re-checks every client's password). Mosquitto reads
 * the count from each line and accepts 1.
 */
export const RANDOM_PASSWORD_ITERATIONS = 1;

/** A Mosquitto 2.0 `$7$` hash (what `mosquitto_passwd` writes after `user:`, with 101 iterations). */
export function mosquittoPasswordHash(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = PBKDF2_ITERATIONS): string {
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Only our own identities reach the files, so no name can smuggle in config syntax. */
function checkUsername(username: string): void {
  if (username !== SERVER_USERNAME && parseNodeUsername(username) === undefined) {
    throw new GroveError(ErrorCode.InvalidArgument, `not a Grove MQTT user name: ${JSON.stringify(username)}`);
  }
}

export function renderMosquittoAcl(cluster: string, usernames: string[]): string {
  validateName(cluster, 'cluster');
  const lines = ['# Written by Grove (src/server/security/mosquitto.ts); mirrors acl.ts. Do not edit.', ''];
  for (const username of [...new Set(usernames)].sort()) {
    checkUsername(username);
    lines.push(`user ${username}`);
    if (username === SERVER_USERNAME) {
      lines.push(`topic readwrite ${clusterRoot(cluster)}/#`);
    } else {
      const node = parseNodeUsername(username)!;
      // Exact topics only: a `read` entry without wildcards refuses wildcard subscriptions.
      for (const topic of nodeTopicsFor(cluster, node, 'subscribe')) lines.push(`topic read ${topic}`);
      for (const topic of nodeTopicsFor(cluster, node, 'publish')) lines.push(`topic write ${topic}`);
      lines.push(`topic read ${networkTopics(cluster).all}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function checkPathValue(path: string): string {
  if (/[\r\n]/.test(path)) throw new GroveError(ErrorCode.InvalidArgument, 'paths in mosquitto.conf cannot contain line breaks');
  return path;
}

export interface MosquittoConfigInput {
  passwordFile: string;
  aclFile: string;
  listener: { host: string; port: number };
  tls?: { certFile: string; keyFile: string };
  maxPacketBytes: number;
  pidFile?: string;
  runAsUser?: string;
}

export function renderMosquittoConfig(input: MosquittoConfigInput): string {
  const { host, port } = input.listener;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new GroveError(ErrorCode.InvalidArgument, `mosquitto listener port must be 1..65535, got ${port}`);
  }
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new GroveError(ErrorCode.InvalidArgument, `invalid listener host ${JSON.stringify(host)}`);
  const lines = [
    '# Written by Grove (src/server/security/mosquitto.ts); regenerated when nodes join. Do not edit.',
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${checkPathValue(input.passwordFile)}`,
    `acl_file ${checkPathValue(input.aclFile)}`,
    // The Grove server re-publishes retained targets from its store at startup.
    'persistence false',
    `max_packet_size ${input.maxPacketBytes}`,
    'set_tcp_nodelay true',
  ];
  if (input.pidFile !== undefined) lines.push(`pid_file ${checkPathValue(input.pidFile)}`);
  if (input.runAsUser !== undefined) {
    if (!/^[a-z_][a-z0-9_-]*$/.test(input.runAsUser)) throw new GroveError(ErrorCode.InvalidArgument, `invalid user ${JSON.stringify(input.runAsUser)}`);
    lines.push(`user ${input.runAsUser}`);
  }
  lines.push('', `listener ${port} ${host}`, 'protocol mqtt');
  // One identity, one session: nobody can take over another client's session by its id.
  lines.push('use_username_as_clientid true');
  if (input.tls) {
    lines.push(`certfile ${checkPathValue(input.tls.certFile)}`, `keyfile ${checkPathValue(input.tls.keyFile)}`, 'tls_version tlsv1.2');
  }
  return lines.join('\n') + '\n';
}

/** `user → hash` of an existing password file (missing file: empty). */
async function readPasswordFile(path: string): Promise<Map<string, string>> {
  const text = await readOptional(path);
  const entries = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) entries.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return entries;
}

/**
 * Writes `<dir>/mosquitto.conf`, `passwd` (0600) and `acl` (0644), plus the TLS pair when
 * given. Users not listed are dropped from the password file.
 */
export async function writeMosquittoFiles(dir: string, options: MosquittoFilesOptions): Promise<MosquittoFiles> {
  validateName(options.cluster, 'cluster');
  const base = resolve(dir);
  await ensureDir(base, 0o755);
  const configPath = join(base, 'mosquitto.conf');
  const passwordFile = join(base, 'passwd');
  const aclFile = join(base, 'acl');

  // Read only when some user's line has to come from it.
  const existing = options.users.every((u) => u.hash !== undefined || u.password !== undefined) ? new Map<string, string>() : await readPasswordFile(passwordFile);
  const hashes = new Map<string, string>();
  const missingPasswords: string[] = [];
  const pwLines: string[] = [];
  const usernames: string[] = [];
  const seen = new Set<string>();
  for (const user of options.users) {
    checkUsername(user.username);
    if (seen.has(user.username)) {
      throw new GroveError(ErrorCode.InvalidArgument, `user ${user.username} listed twice`);
    }
    seen.add(user.username);
    usernames.push(user.username);
    const hash = user.hash ?? (user.password !== undefined ? mosquittoPasswordHash(user.password) : existing.get(user.username));
    if (hash === undefined) missingPasswords.push(user.username);
    else {
      // A caller-supplied hash lands in the file verbatim: no line breaks, no field separators.
      if (/[\s:]/.test(hash)) throw new GroveError(ErrorCode.InvalidArgument, `not a mosquitto password hash for ${user.username}`);
      hashes.set(user.username, hash);
      pwLines.push(`${user.username}:${hash}`);
    }
  }

  let tlsFiles: { certFile: string; keyFile: string } | undefined;
  if (options.tls) {
    tlsFiles = { certFile: join(base, 'server.crt'), keyFile: join(base, 'server.key') };
    await writeFileAtomic(tlsFiles.keyFile, options.tls.keyPem, 0o600);
    await writeFileAtomic(tlsFiles.certFile, options.tls.certPem, 0o644);
  }
  // Password and ACL first: a config that names files which do not exist yet would not start.
  await writeFileAtomic(passwordFile, pwLines.join('\n') + (pwLines.length > 0 ? '\n' : ''), 0o600);
  await writeFileAtomic(aclFile, renderMosquittoAcl(options.cluster, usernames), 0o644);
  const config = renderMosquittoConfig({
    passwordFile,
    aclFile,
    listener: options.listener,
    ...(tlsFiles ? { tls: tlsFiles } : {}),
    maxPacketBytes: options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES,
    ...(options.pidFile !== undefined ? { pidFile: options.pidFile } : {}),
    ...(options.runAsUser !== undefined ? { runAsUser: options.runAsUser } : {}),
  });
  await writeFileAtomic(configPath, config, 0o644);
  return { configPath, passwordFile, aclFile, missingPasswords, hashes };
}

/** SIGHUP's bit in the SigCgt mask of /proc/PID/status (signal 1 → bit 0). */
const SIGHUP_BIT = 1n;
const HANDLER_WAIT_MS = 30_000;

/**
 * Waits (up to 30 s by default) until the process catches SIGHUP. Mosquitto installs its handler only after
 * loading its files, which takes seconds with a large ACL; a SIGHUP before that kills it. Where
 * /proc cannot tell, it goes ahead.
 */
async function untilHangupHandled(pid: number, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let mask: bigint;
    try {
      const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      if (!m) return;
      mask = BigInt(`0x${m[1]}`);
    } catch {
      return;
    }
    if ((mask & SIGHUP_BIT) !== 0n || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Asks a running Mosquitto to reload its password and ACL files (SIGHUP). Takes the pid or the
 * path of its pid file; returns the pid signalled.
 */
export async function reloadMosquitto(pidOrPidFile: number | string, options: { handlerWaitMs?: number } = {}): Promise<number> {
  let pid: number;
  if (typeof pidOrPidFile === 'number') {
    pid = pidOrPidFile;
  } else {
    let text: string;
    try {
      text = await readFile(pidOrPidFile, 'utf8');
    } catch (err) {
      throw new GroveError(ErrorCode.ConfigInvalid, `cannot read mosquitto pid file ${pidOrPidFile}: ${errorMessage(err)}`, {
        cause: err,
        details: { file: pidOrPidFile },
      });
    }
    pid = Number(text.trim());
  }
  if (!Number.isInteger(pid) || pid <= 1) {
    throw new GroveError(ErrorCode.ConfigInvalid, `invalid mosquitto pid ${JSON.stringify(String(pidOrPidFile))}`);
  }
  await untilHangupHandled(pid, options.handlerWaitMs ?? HANDLER_WAIT_MS);
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `cannot signal mosquitto (pid ${pid}): ${errorMessage(err)}`, { cause: err, details: { pid } });
  }
  return pid;
}
