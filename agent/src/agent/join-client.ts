/**
 * Joining a cluster: trade a one-time join token for MQTT credentials.
 *
 * Token: grove1.<sha256 of the server CA's DER, hex | "insecure">.<id>.<secret>. The CA is
 * fetched without trust and checked against the fingerprint BEFORE the token is sent, so a
 * man in the middle learns nothing; the join itself then runs over TLS pinned to that CA.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBrokerUrls } from '../../../src/core/broker-urls.js';
import { ErrorCode, GroveError, errorMessage } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { isValidName } from '../../../src/core/topics.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';

export interface JoinHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** PEM to trust exclusively (https only). */
  ca?: string;
  /** Skip certificate verification: only for fetching a CA that is verified by fingerprint. */
  insecureTls?: boolean;
}

export interface JoinHttpResponse {
  status: number;
  body: string;
  /** The Retry-After header of a 503 (a server busy with other joins), when it sent one. */
  retryAfter?: string;
}

/** The HTTP transport, injectable for tests. (Node 20 bundles no public undici Agent, so CA pinning uses node:https.) */
export type JoinFetch = (request: JoinHttpRequest) => Promise<JoinHttpResponse>;

export interface JoinToken {
  /** 64 lowercase hex digits, or 'insecure' (no CA check: lab use only). */
  fingerprint: string;
  id: string;
  secret: string;
}

export interface JoinConfig {
  cluster: string;
  node: string;
  serverUrl: string;
  /** `urls`: every member of a clustered broker (`url` is the first), when the server lists several. */
  mqtt: { url: string; urls?: string[]; username: string; password: string };
  /** PEM of the cluster CA, when the server runs TLS. */
  caCert?: string;
  /**
   * base64 of the node's 32-byte config key (decrypts its ConfigMap/Secret bundles). Absent in
   * joins made before config delivery existed: the agent then fetches it (config-key.ts).
   */
  configKey?: string;
  /**
   * The node's own credential, when the server hands out shared broker credentials (NATS,
   * EMQX) and it is therefore not mqtt.password: what the node presents to join again.
   */
  credential?: string;
  joinedAt: string;
}

export interface JoinOptions {
  serverUrl: string;
  token: string;
  nodeName: string;
  labels?: Record<string, string>;
  /**
   * The node's current credential (rejoinCredential): a name that is taken can only be joined
   * again by the node that holds it.
   */
  credential?: string;
  dataDir: string;
  /** Write <dataDir>/agent/join.json (default true; hollow nodes keep it in memory). */
  persist?: boolean;
  fetch?: JoinFetch;
  logger?: Logger;
  now?: () => Date;
  /**
   * How long a busy server (503 + Retry-After) or a dropped connection is retried before the
   * join fails (default 10 minutes). 0: no retries.
   */
  retryForMs?: number;
  /** Called before each retry (the fan-out bench counts them). */
  onRetry?: (retry: JoinRetry) => void;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface JoinRetry {
  attempt: number;
  delayMs: number;
  /** busy: 503 from a server admitting only so many joins at once; reset/timeout: the connection failed. */
  reason: 'busy' | 'reset' | 'timeout';
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const HTTP_TIMEOUT_MS = 15_000;
const DEFAULT_RETRY_FOR_MS = 10 * 60_000;
/** Backoff bounds for a dropped connection (a busy server says how long itself). */
const RESET_BACKOFF_MIN_MS = 1_000;
const RESET_BACKOFF_MAX_MS = 30_000;
const MAX_RETRY_AFTER_S = 300;

export function joinConfigPath(dataDir: string): string {
  return join(dataDir, 'agent', 'join.json');
}

export function parseJoinToken(token: string): JoinToken {
  const parts = token.trim().split('.');
  const [version, fingerprint, id, secret] = parts;
  const ok =
    parts.length === 4 &&
    version === 'grove1' &&
    fingerprint !== undefined &&
    (fingerprint === 'insecure' || /^[0-9a-f]{64}$/.test(fingerprint)) &&
    id !== undefined && /^[A-Za-z0-9_-]{1,128}$/.test(id) &&
    secret !== undefined && /^[A-Za-z0-9_-]{1,256}$/.test(secret);
  if (!ok) {
    throw new GroveError(ErrorCode.InvalidArgument, 'malformed join token: expected grove1.<ca-fingerprint|insecure>.<id>.<secret> (copy it again from `grove token create`)');
  }
  return { fingerprint: fingerprint as string, id: id as string, secret: secret as string };
}

/** sha256 over the certificate's DER, lowercase hex without colons. */
export function caFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** node:http(s) transport; `ca` replaces the system roots, which is what pinning means. */
export const nodeHttpFetch: JoinFetch = (request) => {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  const mod = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: request.method,
        headers: request.headers,
        timeout: HTTP_TIMEOUT_MS,
        agent: false,
        ...(secure ? { rejectUnauthorized: !request.insecureTls, ...(request.ca ? { ca: request.ca } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        const retryAfter = res.headers['retry-after'];
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(retryAfter ? { retryAfter } : {}) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${HTTP_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(request.body);
  });
};

function unreachable(serverUrl: string, err: unknown): GroveError {
  return new GroveError(ErrorCode.ServerUnavailable, `cannot reach the server at ${serverUrl}: ${errorMessage(err)}`, { cause: err });
}

export async function joinCluster(options: JoinOptions): Promise<JoinConfig> {
  const token = parseJoinToken(options.token);
  if (!isValidName(options.nodeName)) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid node name ${JSON.stringify(options.nodeName)}: use 1-63 lowercase letters, digits and '-'`);
  }
  const fetchFn = options.fetch ?? nodeHttpFetch;
  const log = options.logger?.child({ component: 'agent-join' });
  const base = options.serverUrl.replace(/\/+$/, '');
  const secure = base.startsWith('https://');
  let pinned: string | undefined;

  if (token.fingerprint !== 'insecure') {
    let res: JoinHttpResponse;
    try {
      // Unverified on purpose: the fingerprint below is the verification.
      res = await fetchFn({ method: 'GET', url: `${base}/v1/ca`, headers: { accept: 'application/x-pem-file' }, insecureTls: true });
    } catch (err) {
      throw unreachable(base, err);
    }
    if (res.status !== 200) {
      throw new GroveError(ErrorCode.ServerUnavailable, `cannot fetch the server CA from ${base}/v1/ca: HTTP ${res.status}`);
    }
    let actual: string;
    try {
      actual = caFingerprint(res.body);
    } catch (err) {
      throw new GroveError(ErrorCode.PermissionDenied, 'the server sent an invalid CA certificate: refusing to join', { cause: err });
    }
    if (actual !== token.fingerprint) {
      throw new GroveError(ErrorCode.PermissionDenied, 'server CA fingerprint does not match the join token: refusing to join', {
        details: { expected: token.fingerprint, actual },
      });
    }
    pinned = res.body;
  } else {
    log?.warn('join token carries no CA fingerprint: the server is not authenticated');
  }

  const password = randomBytes(32).toString('base64url');
  const res = await postJoinWithRetries(fetchFn, options, {
    method: 'POST',
    url: `${base}/v1/join`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    // The node's next credential, chosen here and kept across retries (k3s's node password): a
    // join that went through but whose answer was lost is repeated with it and proves the name.
    body: JSON.stringify({ token: options.token.trim(), nodeName: options.nodeName, labels: options.labels ?? {}, password, ...(options.credential ? { credential: options.credential } : {}) }),
    ...(secure ? (pinned ? { ca: pinned } : { insecureTls: true }) : {}),
  }, log);
  if (res.status < 200 || res.status >= 300) throw joinRefused(res);
  const config = parseJoinResponse(res.body, base, (options.now ?? (() => new Date()))());
  // Shared broker users (NATS, EMQX): the MQTT login is not the node's own credential.
  if (config.mqtt.password !== password) config.credential = password;
  if (pinned) {
    if (config.caCert && caFingerprint(config.caCert) !== token.fingerprint) {
      throw new GroveError(ErrorCode.PermissionDenied, 'server CA fingerprint does not match the join token: refusing to join');
    }
    config.caCert = pinned;
  }
  if (options.persist === false) return config;
  await mkdir(join(options.dataDir, 'agent'), { recursive: true, mode: 0o700 });
  // Holds the MQTT password: owner-only, and never half-written.
  await writeFileAtomic(joinConfigPath(options.dataDir), JSON.stringify(config, null, 2) + '\n', 0o600);
  log?.info({ cluster: config.cluster, node: config.node, mqtt: config.mqtt.url }, 'joined cluster');
  return config;
}

/** Whether a failed request is worth repeating: the server dropped or did not answer it. */
function retryReason(err: unknown): 'reset' | 'timeout' | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'reset';
  if (code === 'ETIMEDOUT' || /no answer within/.test(errorMessage(err))) return 'timeout';
  return undefined;
}

/** Retry-After in seconds (a number; an HTTP date is read too), bounded. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number {
  if (header === undefined) return RESET_BACKOFF_MIN_MS;
  const seconds = /^\d{1,6}$/.test(header.trim()) ? Number(header) : (Date.parse(header) - now) / 1000;
  if (!Number.isFinite(seconds)) return RESET_BACKOFF_MIN_MS;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(0, seconds)) * 1000;
}

/**
 * POST /v1/join, repeated while the server is busy (503: it admits only so many joins at once)
 * or drops the connection, until `retryForMs` has passed. Waits carry ±50 % jitter so that a
 * fleet turned away together does not come back together. A refused token, a taken name, a
 * 429 (too many failed joins from here) or any other answer is final.
 */
async function postJoinWithRetries(fetchFn: JoinFetch, options: JoinOptions, request: JoinHttpRequest, log: Logger | undefined): Promise<JoinHttpResponse> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const deadline = Date.now() + (options.retryForMs ?? DEFAULT_RETRY_FOR_MS);
  for (let attempt = 1; ; attempt++) {
    let res: JoinHttpResponse | undefined;
    let reason: JoinRetry['reason'] | undefined;
    let failure: unknown;
    let baseDelay: number;
    try {
      res = await fetchFn(request);
      if (res.status !== 503) return res;
      reason = 'busy';
      baseDelay = Math.max(250, retryAfterMs(res.retryAfter));
    } catch (err) {
      reason = retryReason(err);
      failure = err;
      if (reason === undefined || Date.now() >= deadline) throw unreachable(options.serverUrl, err);
      baseDelay = Math.min(RESET_BACKOFF_MAX_MS, RESET_BACKOFF_MIN_MS * 2 ** Math.min(attempt - 1, 5));
    }
    const delayMs = Math.round(baseDelay * (0.5 + random()));
    if (Date.now() + delayMs > deadline) {
      if (res) return res;
      throw unreachable(options.serverUrl, failure);
    }
    if (attempt === 1 || attempt % 10 === 0) {
      log?.info({ attempt, retryMs: delayMs, reason }, reason === 'busy' ? 'server busy with other joins, will retry' : 'join request failed, will retry');
    }
    options.onRetry?.({ attempt, delayMs, reason });
    await sleep(delayMs);
  }
}

/** The server's refusal as one line: its own message, which says what to do. */
function joinRefused(res: JoinHttpResponse): GroveError {
  const message = serverMessage(res.body);
  if (res.status === 401 || res.status === 403) return new GroveError(ErrorCode.PermissionDenied, `join token rejected by the server: ${message}`);
  if (res.status === 409) return new GroveError(ErrorCode.Conflict, `join refused: ${message}`);
  if (res.status === 429) return new GroveError(ErrorCode.RateLimited, `join refused: ${message}`);
  if (res.status >= 400 && res.status < 500) return new GroveError(ErrorCode.InvalidArgument, `join refused: ${message}`);
  return new GroveError(ErrorCode.ServerUnavailable, `join failed: the server answered HTTP ${res.status}: ${message}`);
}

/**
 * What this node presents when it joins again: the credential of its saved join, when that
 * join is of the same node name in the same cluster — the same server URL, or (a server that
 * moved) a token pinning the CA the node already trusts. Never sent to another server.
 */
export function rejoinCredential(saved: JoinConfig | undefined, nodeName: string, serverUrl: string, token?: string): string | undefined {
  if (!saved || saved.node !== nodeName) return undefined;
  const base = (url: string) => url.replace(/\/+$/, '');
  const sameServer = base(saved.serverUrl) === base(serverUrl);
  const sameCa = saved.caCert !== undefined && token !== undefined && tokenFingerprint(token) === caFingerprint(saved.caCert);
  return sameServer || sameCa ? (saved.credential ?? saved.mqtt.password) : undefined;
}

function tokenFingerprint(token: string): string | undefined {
  try {
    return parseJoinToken(token).fingerprint;
  } catch {
    return undefined;
  }
}

function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown }; message?: unknown };
    const m = parsed.error?.message ?? parsed.message;
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON: show the text
  }
  return body.slice(0, 300).trim() || '(empty body)';
}

function parseJoinResponse(body: string, serverUrl: string, now: Date): JoinConfig {
  const bad = (why: string): GroveError => new GroveError(ErrorCode.ServerUnavailable, `join failed: unexpected answer from the server (${why})`);
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw bad('not JSON');
  }
  const config = validateConfig(raw, bad, { serverUrl, joinedAt: now.toISOString() });
  return config;
}

function validateConfig(raw: unknown, bad: (why: string) => GroveError, defaults?: { serverUrl: string; joinedAt: string }): JoinConfig {
  const o = raw as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw bad('not an object');
  const mqtt = o.mqtt as Record<string, unknown> | undefined;
  if (!isValidName(o.cluster)) throw bad('cluster');
  if (!isValidName(o.node)) throw bad('node');
  if (typeof mqtt !== 'object' || mqtt === null) throw bad('mqtt');
  for (const k of ['url', 'username', 'password'] as const) {
    if (typeof mqtt[k] !== 'string' || (mqtt[k] as string).length === 0) throw bad(`mqtt.${k}`);
  }
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqtt.url as string)) throw bad('mqtt.url');
  let urls: string[] | undefined;
  if (mqtt.urls !== undefined) {
    if (!Array.isArray(mqtt.urls) || !mqtt.urls.every((u) => typeof u === 'string')) throw bad('mqtt.urls');
    try {
      urls = parseBrokerUrls(mqtt.urls as string[], 'mqtt.urls');
    } catch {
      throw bad('mqtt.urls');
    }
  }
  if (o.caCert !== undefined && typeof o.caCert !== 'string') throw bad('caCert');
  if (o.configKey !== undefined && !isConfigKey(o.configKey)) throw bad('configKey');
  if (o.credential !== undefined && (typeof o.credential !== 'string' || o.credential.length === 0 || o.credential.length > 256)) throw bad('credential');
  const serverUrl = defaults?.serverUrl ?? o.serverUrl;
  const joinedAt = defaults?.joinedAt ?? o.joinedAt;
  if (typeof serverUrl !== 'string' || typeof joinedAt !== 'string') throw bad('serverUrl/joinedAt');
  return {
    cluster: o.cluster,
    node: o.node,
    serverUrl,
    mqtt: { url: mqtt.url as string, ...(urls ? { urls } : {}), username: mqtt.username as string, password: mqtt.password as string },
    ...(typeof o.caCert === 'string' ? { caCert: o.caCert } : {}),
    ...(typeof o.configKey === 'string' ? { configKey: o.configKey } : {}),
    ...(typeof o.credential === 'string' ? { credential: o.credential } : {}),
    joinedAt,
  };
}

/** base64 of exactly 32 bytes. */
export function isConfigKey(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32;
}

/** The saved join, or undefined when this node has not joined yet. */
export async function loadJoinConfig(dataDir: string): Promise<JoinConfig | undefined> {
  const file = joinConfigPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const bad = (why: string): GroveError =>
    new GroveError(ErrorCode.ConfigInvalid, `${file} is damaged (${why}): join again with \`grove agent join\``, { details: { file } });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  return validateConfig(raw, bad);
}
