/**
 * A tiny JSON router on node:http: path patterns with :params, a body size limit, bearer-token
 * auth and one error shape ({error: {code, message}}). Enough for the /v1 API without a
 * framework (and its memory) on a 512 MB board.
 *
 * Every route that is not public is authenticated (RouterOptions.authenticate: the admin token
 * by default; users and client certificates with src/server/auth/authenticate.ts) and then
 * authorized by the user's role on the request info of its method and path
 * (src/server/auth/): a refused request gets 401 or 403 before its handler runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../core/errors.js';
import { adminTokenUser, authorize, type UserInfo } from './auth/authorize.js';
import { requestInfoOf } from './auth/grove-request-info.js';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body ({} when there is none); throws SizeLimit / InvalidArgument. */
  body(): Promise<unknown>;
  /**
   * The body as sent, whatever its content type (patches, YAML): at most the router's body limit;
   * throws SizeLimit. Read the body once, through `body()` or `rawBody()`.
   */
  rawBody(): Promise<{ contentType: string | undefined; bytes: Buffer }>;
  /** Aborted when the client goes away (long requests such as logs stop early). */
  signal: AbortSignal;
  /** Who asked (authenticated and authorized by the router); absent on public routes. */
  user?: UserInfo;
}

export type Handler = (ctx: RequestContext) => Promise<unknown>;

/** An HTTP Upgrade request (WebSocket, SPDY) on a path with an upgrade route. */
export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** Takes the socket over (answering 101) or throws before touching it: the router answers the error. */
export type UpgradeHandler = (ctx: UpgradeContext) => Promise<void>;

interface UpgradeRoute {
  segments: string[];
  auth: RouteAuth;
  handler: UpgradeHandler;
  formatError?: ErrorFormatter;
}

/**
 * Who may call a route: 'admin' is any authenticated user whose role allows the request (the
 * name is from when the admin token was the only credential), 'public' anyone (the handler
 * authenticates itself, as the join does).
 */
export type RouteAuth = 'admin' | 'public';

/** How a route words its failures: Grove's `{error}` by default; the Kubernetes routes answer Status objects. */
export type ErrorFormatter = (err: unknown, status: number) => { status: number; body: unknown };

const groveErrorFormat: ErrorFormatter = (err, status) => ({ status, body: errorBody(err) });

interface Route {
  method: string;
  segments: string[];
  auth: RouteAuth;
  handler: Handler;
  formatError?: ErrorFormatter;
}

/** A handler result with a status other than 200. */
export class JsonResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    /** A JSON media type with parameters (a Kubernetes Table says so); plain JSON when absent. */
    readonly contentType?: string,
  ) {}
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidArgument]: 400,
  [ErrorCode.ManifestInvalid]: 400,
  [ErrorCode.InvalidImageReference]: 400,
  [ErrorCode.ConfigInvalid]: 400,
  [ErrorCode.WireInvalid]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.PermissionDenied]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.NotAcceptable]: 406,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Timeout]: 408,
  [ErrorCode.Expired]: 410,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.SizeLimit]: 413,
  [ErrorCode.NodeUnavailable]: 503,
  [ErrorCode.ServerUnavailable]: 503,
  [ErrorCode.NoSpace]: 507,
};

export function statusFor(err: unknown): number {
  return isGroveError(err) ? (STATUS[err.code] ?? 500) : 500;
}

/** Equal-time comparison of a presented bearer token with the expected one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || expected.length === 0) return false;
  // Hashing first gives equal lengths, so timingSafeEqual never leaks the token's length.
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function errorBody(err: unknown): { error: { code: string; message: string } } {
  if (isGroveError(err)) return { error: { code: err.code, message: err.message } };
  // Internal failures are logged in full; the caller gets no stack or internals.
  return { error: { code: ErrorCode.Internal, message: 'internal server error' } };
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new GroveError(ErrorCode.InvalidArgument, `content-type must be application/json, got ${type}`);
  }
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new GroveError(ErrorCode.InvalidArgument, `request body is not valid JSON: ${errorMessage(err)}`);
  }
}

/** The request body's bytes, at most `limit` of them. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): GroveError => new GroveError(ErrorCode.SizeLimit, `request body larger than ${limit} bytes`);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (isGroveError(err)) throw err;
    // The client went away, or the server's request timeout cut the connection (Node has
    // answered 408 itself then): nobody to tell, and nothing for the error log.
    throw new GroveError(ErrorCode.Timeout, `request body incomplete after ${size} bytes (the client went away or exceeded the request timeout)`, { cause: err });
  }
  return Buffer.concat(chunks);
}

export interface RouterOptions {
  logger: Logger;
  /** A function when the token can change (`grove token rotate-admin`): read per request. */
  adminToken: string | (() => string);
  /** Who a request is from; default: the admin token only (src/server/auth/authenticate.ts adds users and certificates). */
  authenticate?: (req: IncomingMessage) => Promise<UserInfo | undefined>;
  maxBodyBytes?: number;
}

/** Unknown paths under these are authenticated too, so a caller without credentials learns nothing of what exists. */
const PROTECTED_PREFIXES = ['/api/', '/apis/', '/v1/', '/openapi/'];
const PROTECTED_PATHS = ['/api', '/apis', '/v1', '/openapi'];

export class Router {
  private readonly routes: Route[] = [];
  private readonly upgrades: UpgradeRoute[] = [];
  private readonly upgraded = new Set<Duplex>();
  /** Paths under these prefixes answer failures no route claims (404) in their format. */
  private readonly prefixFormats: { prefix: string; format: ErrorFormatter }[] = [];
  /** Checks every request under these prefixes passes after authentication (e.g. its Accept header). */
  private readonly prefixChecks: { prefix: string; check: (req: IncomingMessage) => void }[] = [];
  private readonly log: Logger;
  private readonly limit: number;

  constructor(private readonly opts: RouterOptions) {
    this.log = opts.logger.child({ component: 'http' });
    this.limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  add(method: string, path: string, handler: Handler, auth: RouteAuth = 'admin', formatError?: ErrorFormatter): this {
    this.routes.push({ method, segments: path.split('/').filter(Boolean), auth, handler, ...(formatError ? { formatError } : {}) });
    return this;
  }

  /** An upgrade route: requests with `Upgrade:` on `path`, whatever their method (WebSocket is GET, SPDY POST). */
  addUpgrade(path: string, handler: UpgradeHandler, auth: RouteAuth = 'admin', formatError?: ErrorFormatter): this {
    this.upgrades.push({ segments: path.split('/').filter(Boolean), auth, handler, ...(formatError ? { formatError } : {}) });
    return this;
  }

  /**
   * The node:http 'upgrade' listener: the route's handler takes the socket over; a failure
   * before that (authentication, a bad request, no such route) is answered as an HTTP error in
   * the route's format and the socket closed. Never throws.
   */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined);
    // Upgraded sockets leave node:http's keeping: closeUpgraded() ends them when the API stops.
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    const url = new URL(req.url ?? '/', 'http://local');
    let route: UpgradeRoute | undefined;
    const run = async (): Promise<void> => {
      let segments: string[];
      try {
        segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        throw new GroveError(ErrorCode.InvalidArgument, 'malformed URL path');
      }
      let params: Record<string, string> | undefined;
      for (const r of this.upgrades) {
        params = match(r.segments, segments);
        if (params) {
          route = r;
          break;
        }
      }
      if (!route || !params) throw new GroveError(ErrorCode.NotFound, `no upgrade endpoint: ${req.method} ${url.pathname}`);
      // The same authentication and role check as every other route (exec and port-forward count as create).
      if (route.auth !== 'public') await this.admit(req, url.pathname, url.searchParams);
      await route.handler({ req, socket, head, params, query: url.searchParams });
    };
    run().catch((err: unknown) => {
      const status = statusFor(err);
      if (status >= 500 && !isGroveError(err, ErrorCode.NodeUnavailable)) {
        this.log.error({ method: req.method, url: url.pathname, err }, `upgrade failed: ${errorMessage(err)}`);
      }
      const answer = (route?.formatError ?? this.formatFor(req, undefined) ?? groveErrorFormat)(err, status);
      rejectUpgrade(socket, answer.status, answer.body, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    });
  };

  /** Ends every upgraded connection (exec sessions, port-forwards): the API stops. */
  closeUpgraded(): void {
    for (const socket of this.upgraded) socket.destroy();
    this.upgraded.clear();
  }

  /** Failures of unknown paths under `prefix` (e.g. `/apis/`) are worded by `format`. */
  formatErrorsUnder(prefix: string, format: ErrorFormatter): this {
    this.prefixFormats.push({ prefix, format });
    return this;
  }

  /** Runs `check` on every authenticated request under `prefix` before its handler; it throws to refuse. */
  checkUnder(prefix: string, check: (req: IncomingMessage) => void): this {
    this.prefixChecks.push({ prefix, check });
    return this;
  }

  private formatFor(req: IncomingMessage, route: Route | undefined): ErrorFormatter | undefined {
    if (route) return route.formatError;
    const path = req.url?.split('?')[0] ?? '';
    return this.prefixFormats.find((p) => path.startsWith(p.prefix))?.format;
  }

  /** The node:http request listener. Never throws; every failure becomes a JSON error. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const matched: { route?: Route; user?: UserInfo } = {};
    this.dispatch(req, res, abort.signal, matched)
      .catch((err: unknown) => this.fail(req, res, err, this.formatFor(req, matched.route)))
      .finally(() => this.log.debug({ method: req.method, url: req.url?.split('?')[0], user: matched.user?.username, status: res.statusCode, ms: Date.now() - started }, 'request'));
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, matched: { route?: Route; user?: UserInfo }): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new GroveError(ErrorCode.InvalidArgument, 'malformed URL path');
    }
    let pathMatched = false;
    let found: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      const params = match(route.segments, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      found = { route, params };
      break;
    }
    matched.route = found?.route;
    const path = '/' + segments.join('/');
    // Public routes authenticate themselves; unknown paths outside the APIs are plain 404s.
    const guarded = found ? found.route.auth !== 'public' : PROTECTED_PATHS.includes(path) || PROTECTED_PREFIXES.some((p) => path.startsWith(p));
    if (guarded) matched.user = await this.admit(req, path, url.searchParams, res);
    if (found) {
      for (const c of this.prefixChecks) if (url.pathname.startsWith(c.prefix)) c.check(req);
      const ctx: RequestContext = {
        req,
        res,
        params: found.params,
        query: url.searchParams,
        signal,
        body: () => readJsonBody(req, this.limit),
        rawBody: async () => ({ contentType: req.headers['content-type'], bytes: await readBody(req, this.limit) }),
        ...(matched.user ? { user: matched.user } : {}),
      };
      const result = await found.route.handler(ctx);
      if (res.headersSent || res.writableEnded) return; // the handler streamed its own answer
      if (result instanceof JsonResponse) sendJson(res, result.status, result.body, result.contentType);
      else sendJson(res, 200, result ?? {});
      return;
    }
    if (pathMatched) {
      sendJson(res, 405, { error: { code: ErrorCode.InvalidArgument, message: `method ${req.method} not allowed on ${url.pathname}` } });
      return;
    }
    throw new GroveError(ErrorCode.NotFound, `no such endpoint: ${req.method} ${url.pathname}`);
  }

  /** Authentication (401) then authorization (403) of a guarded request; the user when both pass. */
  private async admit(req: IncomingMessage, path: string, query: URLSearchParams, res?: ServerResponse): Promise<UserInfo> {
    const user = await (this.opts.authenticate ?? ((r) => Promise.resolve(this.adminOnly(r))))(req);
    if (!user) {
      res?.setHeader('www-authenticate', 'Bearer');
      throw new GroveError(ErrorCode.Unauthenticated, 'Unauthorized: missing or wrong credentials (Authorization: Bearer <admin token or user token>, or a client certificate of the cluster CA)');
    }
    authorize(user, requestInfoOf(req.method ?? 'GET', path, query));
    return user;
  }

  private adminOnly(req: IncomingMessage): UserInfo | undefined {
    const expected = typeof this.opts.adminToken === 'function' ? this.opts.adminToken() : this.opts.adminToken;
    return tokenMatches(bearerToken(req), expected) ? adminTokenUser() : undefined;
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown, formatError: ErrorFormatter = groveErrorFormat): void {
    const status = statusFor(err);
    if (status >= 500 && !isGroveError(err, ErrorCode.NodeUnavailable)) {
      this.log.error({ method: req.method, url: req.url?.split('?')[0], err }, `request failed: ${errorMessage(err)}`);
    }
    if (res.headersSent) {
      // A streamed answer already started: the client sees it cut short.
      res.destroy();
      return;
    }
    if (status === 413) {
      // The client may still be sending: close the connection after the answer rather than
      // read megabytes we will not use; what it sent so far is drained.
      res.setHeader('connection', 'close');
      req.resume();
    }
    const answer = formatError(err, status);
    sendJson(res, answer.status, answer.body);
  }
}

/** An HTTP answer written straight on a socket that asked for an upgrade, then closed. */
export function rejectUpgrade(socket: Duplex, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'cache-control: no-store',
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = segments[i]!;
    else if (p !== segments[i]) return undefined;
  }
  return params;
}
