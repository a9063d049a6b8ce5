/**
 * `grove server --mqtt-url … --broker-credentials FILE`: a broker whose users Grove does not
 * manage (a NATS or EMQX cluster with its own user list). The file holds two logins, both
 * configured in the broker by the operator:
 *
 *   { "server": { "username": "grove-server", "password": "…" },
 *     "node":   { "username": "grove-node",   "password": "…" } }
 *
 * The server logs in as `server`; every joining node is handed `node`. Per-node isolation is then
 * the broker's job (or absent): see docs/operations.md, "Clustered broker".
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, GroveError } from '../../core/errors.js';

export interface BrokerLogin {
  username: string;
  password: string;
}

export interface BrokerCredentials {
  server: BrokerLogin;
  node: BrokerLogin;
}

const MAX_FILE_BYTES = 64 * 1024;

function login(raw: unknown, what: string, file: string): BrokerLogin {
  const o = raw as Partial<BrokerLogin> | null;
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256 && !/[\s\u0000]/.test(v);
  if (typeof o !== 'object' || o === null || !ok(o.username) || !ok(o.password)) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: "${what}" needs a non-empty username and password`, { details: { file } });
  }
  return { username: o.username, password: o.password };
}

export async function loadBrokerCredentials(file: string): Promise<BrokerCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `cannot read --broker-credentials ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
  if (text.length > MAX_FILE_BYTES) throw new GroveError(ErrorCode.ConfigInvalid, `${file} is larger than ${MAX_FILE_BYTES} bytes`, { details: { file } });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file} is not valid JSON`, { cause: err, details: { file } });
  }
  const o = raw as { server?: unknown; node?: unknown } | null;
  if (typeof o !== 'object' || o === null) throw new GroveError(ErrorCode.ConfigInvalid, `${file}: expected an object with "server" and "node"`, { details: { file } });
  return { server: login(o.server, 'server', file), node: login(o.node, 'node', file) };
}
