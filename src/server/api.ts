/**
 * The /v1 HTTP API (docs/api.md): routes → ControlPlane operations. Everything needs the admin
 * token except GET /healthz, GET /v1/ca (public by nature: nodes fetch it to pin the cluster)
 * and POST /v1/join (authenticated by the join token in its body).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, GroveError, errorMessage } from '../core/errors.js';
import { JsonResponse, Router, errorBody, type RequestContext } from './http.js';
import { JoinAdmission, admitJoin } from './join-admission.js';
import { JoinFailureLimiter, limitFailedJoins } from './join-failures.js';
import type { LogLine } from './rpc-proxy.js';
import type { ControlPlane, LogsQuery } from './server.js';
import { invalid, validName } from './request-fields.js';
import { LogThrottle } from '../core/log-throttle.js';
import { goPlatform } from './k8s-api/discovery.js';
import { addKubernetesRoutes } from './k8s-api/routes.js';
import { addAccessReviewRoutes, ACCESS_REVIEW_RESOURCES } from './k8s-api/access-review.js';
import { addEventRoutes, eventCollection, EVENT_RESOURCES } from './k8s-api/events-routes.js';
import { addEvictionRoutes, EVICTION_RESOURCES } from './k8s-api/eviction.js';
import { writeSubresources } from './k8s-api/discovery-resources.js';
import { addPodLogRoutes, POD_LOG_DISCOVERY } from './k8s-api/pod-logs.js';
import { queryBool, queryInt, queryTime } from './k8s-api/pod-log-options.js';
import { addMetricsRoutes } from './k8s-api/metrics-api.js';
import { METRICS_DISCOVERY } from './k8s-api/metrics-objects.js';
import { addRemoteCommandRoutes, REMOTE_COMMAND_DISCOVERY } from './k8s-api/remote-command.js';
import { addPortForwardRoutes, PORT_FORWARD_DISCOVERY } from './k8s-api/port-forward.js';
import { addAttachRoutes } from './k8s-api/attach.js';
import { statusErrorFormat } from './k8s-api/status.js';
import { rolloutKind } from './objects/rollout-api.js';

const LISTEN_BACKLOG = 8192;

/** A request (headers and body) must have arrived completely within this long (docs/api.md). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Sockets the API keeps open at once (`--max-api-connections`); more are closed as soon as they
 * are accepted, so a flood meets a quick refusal instead of taking the process's last file
 * descriptors (which the embedded broker needs too). Large enough for a 10,000-node join storm
 * (docs/performance.md): joins beyond --max-joins-in-flight still get their 503 + Retry-After.
 */
export const DEFAULT_MAX_API_CONNECTIONS = 10_000;

export interface ApiServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls?: { certPem: string; keyPem: string };
  controlPlane: ControlPlane;
  logger: Logger;
  maxBodyBytes?: number;
  /** Joins worked on at once; more are answered 503 + Retry-After (src/server/join-admission.ts). */
  maxJoinsInFlight?: number;
  /** Slow-loris guard: the whole request must arrive within this long (default 30 s). */
  requestTimeoutMs?: number;
  /** Open sockets at once (default DEFAULT_MAX_API_CONNECTIONS). */
  maxConnections?: number;
  /** Failed joins per source address before 429 (src/server/join-failures.ts). */
  joinFailures?: JoinFailureLimiter;
  /** Grove's version, for the Kubernetes /version and OpenAPI documents. */
  groveVersion?: string;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

function flag(ctx: RequestContext, key: string): boolean {
  const v = ctx.query.get(key);
  return v === 'true' || v === '1';
}

function optionalName(ctx: RequestContext, key: string): string | undefined {
  const v = ctx.query.get(key);
  return v === null || v === '' ? undefined : validName(v, key);
}

function logsQuery(ctx: RequestContext): LogsQuery {
  const q: LogsQuery = {};
  const namespace = optionalName(ctx, 'namespace');
  const workload = ctx.query.get('workload');
  const pod = optionalName(ctx, 'pod');
  const node = optionalName(ctx, 'node');
  const container = optionalName(ctx, 'container');
  if (namespace !== undefined) q.namespace = namespace;
  if (workload !== null && workload !== '') q.workload = workload;
  if (pod !== undefined) q.pod = pod;
  if (node !== undefined) q.node = node;
  if (container !== undefined) q.container = container;
  if (flag(ctx, 'follow')) q.follow = true;
  if (queryBool(ctx.query, 'previous')) q.previous = true;
  const sinceSeconds = queryInt(ctx.query, 'sinceSeconds', 1);
  const sinceTime = queryTime(ctx.query, 'sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== undefined) throw invalid('sinceTime', 'give at most one of sinceTime and sinceSeconds');
  if (sinceSeconds !== undefined) q.sinceSeconds = sinceSeconds;
  if (sinceTime !== undefined) q.sinceTime = sinceTime;
  const tail = ctx.query.get('tail');
  if (tail !== null && tail !== '') {
    if (!/^\d{1,7}$/.test(tail)) throw invalid('tail', 'expected a whole number of lines');
    q.tail = Number(tail);
  }
  return q;
}

/** NDJSON: one object per line, written as it arrives; headers go out with the first line. */
async function streamLogs(cp: ControlPlane, ctx: RequestContext): Promise<void> {
  const query = logsQuery(ctx);
  const { res } = ctx;
  const start = (): void => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  };
  const onLines = (lines: LogLine[]): void => {
    start();
    res.write(lines.map((l) => JSON.stringify({ pod: l.pod, container: l.container, time: l.time, stream: l.stream, text: l.text }) + '\n').join(''));
  };
  const onError = (pod: string, err: unknown): void => {
    start();
    res.write(JSON.stringify({ pod, ...errorBody(err) }) + '\n');
  };
  try {
    await cp.logs(query, onLines, onError, ctx.signal);
  } catch (err) {
    // Before the first line the router answers with a proper status; after it, the error
    // can only travel as a last line.
    if (!res.headersSent) throw err;
    onError(query.pod ?? '', err);
  }
  start();
  res.end();
}

export function buildRouter(cp: ControlPlane, logger: Logger, maxBodyBytes?: number, admission = new JoinAdmission({ now: () => cp.clock.now() }), joinFailures = new JoinFailureLimiter({ now: () => cp.clock.now() }), groveVersion = 'unknown'): Router {
  const r = new Router({ logger, adminToken: () => cp.adminToken, authenticate: cp.authenticate, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) });
  const joinLog = logger.child({ component: 'join' });
  const n = (ctx: RequestContext, what: string): string => validName(ctx.params.name, what);

  r.add('GET', '/healthz', async () => ({ ok: true }), 'public');
  r.add(
    'GET',
    '/v1/ca',
    async ({ res }) => {
      const pem = cp.caCertPem;
      if (!pem) throw new GroveError(ErrorCode.NotFound, 'this server runs without TLS: there is no cluster CA');
      res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
      res.end(pem);
    },
    'public',
  );
  r.add('POST', '/v1/join', (ctx) => limitFailedJoins(joinFailures, ctx, joinLog, () => admitJoin(admission, ctx.res, async () => cp.join(await ctx.body()))), 'public');
  // Authenticated by the node's MQTT password in the body (node-key-api.ts).
  r.add('POST', '/v1/nodes/:name/config-key', async (ctx) => cp.nodeConfigKey(n(ctx, 'node'), await ctx.body()), 'public');

  // The object apply (docs/api.md): {objects, dryRun?}, one commit; errors as Kubernetes Status.
  r.add('POST', '/v1/apply', async (ctx) => cp.apply(await ctx.body()), 'admin', statusErrorFormat);
  // Before the object routes: their generic :plural paths would take events, eviction, the self
  // reviews, pods/log and the metrics paths.
  addAccessReviewRoutes(r, () => new Date(cp.clock.now()));
  addPodLogRoutes(r, cp.logSource);
  addMetricsRoutes(r, cp.metricsSource);
  // Events list, page and watch through the same handler as the stored kinds (list.ts).
  addEventRoutes(r, cp.events, eventCollection(cp.clock), () => new Date(cp.clock.now()));
  addEvictionRoutes(r, { objects: cp.objects, record: (events) => cp.events.record(events) });
  addKubernetesRoutes(r, cp.objects, (o) => cp.served(o), { feed: cp.objectFeed, clock: cp.clock }, {
    now: () => new Date(cp.clock.now()),
    discovery: {
      groveVersion,
      platform: goPlatform(process.platform, process.arch),
      extraResources: [...EVENT_RESOURCES, ...EVICTION_RESOURCES, ...ACCESS_REVIEW_RESOURCES, ...writeSubresources(), POD_LOG_DISCOVERY, ...REMOTE_COMMAND_DISCOVERY, PORT_FORWARD_DISCOVERY, ...METRICS_DISCOVERY],
    },
  });
  const streamDeps = { objects: cp.objects, streams: cp.streams, isReady: (node: string) => cp.isNodeReady(node) };
  addRemoteCommandRoutes(r, streamDeps);
  addAttachRoutes(r, { ...streamDeps, rpc: cp.logSource.rpc });
  addPortForwardRoutes(r, streamDeps, logger);
  r.add('POST', '/v1/tokens', async (ctx) => new JsonResponse(201, await cp.createToken(await ctx.body())));
  r.add('GET', '/v1/tokens', async () => cp.listTokens());
  r.add('DELETE', '/v1/tokens/:id', async (ctx) => cp.revokeToken(ctx.params.id!));
  r.add('POST', '/v1/admin-token/rotate', async () => cp.rotateAdminToken());

  // API users (auth/users-api.ts): admin only, as the roles say (auth/roles.ts).
  r.add('POST', '/v1/users', async (ctx) => new JsonResponse(201, await cp.createUser(await ctx.body())));
  r.add('GET', '/v1/users', async () => cp.listUsers());
  r.add('DELETE', '/v1/users/:name', async (ctx) => cp.deleteUser(n(ctx, 'user')));
  r.add('POST', '/v1/users/:name/tokens', async (ctx) => new JsonResponse(201, await cp.addUserToken(n(ctx, 'user'))));
  r.add('POST', '/v1/users/:name/certificates', async (ctx) => new JsonResponse(201, await cp.issueUserCertificate(n(ctx, 'user'), await ctx.body())));

  // Rollouts of a Deployment or DaemonSet (objects/rollout-api.ts); :resource as kubectl names it.
  const rollout = (ctx: RequestContext) => ({
    kind: rolloutKind(ctx.params.resource!),
    namespace: validName(ctx.params.namespace, 'namespace'),
    name: validName(ctx.params.name, 'name'),
  });
  r.add('GET', '/v1/namespaces/:namespace/:resource/:name/rollout', async (ctx) => cp.rollouts.status(rollout(ctx)));
  r.add('GET', '/v1/namespaces/:namespace/:resource/:name/rollout/history', async (ctx) => cp.rollouts.history(rollout(ctx)));
  r.add('POST', '/v1/namespaces/:namespace/:resource/:name/rollout/undo', async (ctx) => cp.rollouts.undo(rollout(ctx), await ctx.body()));
  r.add('POST', '/v1/namespaces/:namespace/:resource/:name/rollout/restart', async (ctx) => cp.rollouts.restart(rollout(ctx)));

  r.add('PATCH', '/v1/nodes/:name', async (ctx) => cp.patchNode(n(ctx, 'node'), await ctx.body()));
  r.add('DELETE', '/v1/nodes/:name', async (ctx) => cp.deleteNode(n(ctx, 'node')));

  r.add('GET', '/v1/volumes', async (ctx) => cp.listVolumes(optionalName(ctx, 'node')));
  r.add('DELETE', '/v1/nodes/:name/volumes/:volume', async (ctx) => cp.removeVolume(n(ctx, 'node'), ctx.params.volume!));

  r.add('GET', '/v1/logs', (ctx) => streamLogs(cp, ctx));
  r.add('GET', '/v1/backup', async ({ res }) => {
    const file = await cp.backup();
    res.writeHead(200, { 'content-type': 'application/cbor', 'content-length': file.length, 'cache-control': 'no-store' });
    res.end(file);
  });
  return r;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const log = options.logger.child({ component: 'api' });
  const now = (): number => options.controlPlane.clock.now();
  const admission = new JoinAdmission({ now, ...(options.maxJoinsInFlight !== undefined ? { maxInFlight: options.maxJoinsInFlight } : {}) });
  const router = buildRouter(options.controlPlane, options.logger, options.maxBodyBytes, admission, options.joinFailures, options.groveVersion);
  // Slow-loris guard: a request must arrive completely within the timeout (logs stream longer,
  // but that is the response, which this does not limit). Node enforces these timeouts only
  // when it checks its connections, every 30 s by default, which let a never-ending body run
  // for up to a minute: checked every tenth of the timeout (at most every second) instead.
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeouts = {
    requestTimeout,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 10))),
  };
  // A client certificate is asked for, never required (tokens and agents have none); one that
  // chains to the cluster CA authenticates its user (auth/authenticate.ts).
  const clientCa = options.controlPlane.caCertPem;
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2', ...(clientCa ? { requestCert: true, rejectUnauthorized: false, ca: clientCa } : {}), ...timeouts }, router.handle)
    : createHttpServer(timeouts, router.handle);
  // exec, attach and port-forward (WebSocket): the router's upgrade routes.
  server.on('upgrade', router.handleUpgrade);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_API_CONNECTIONS;
  server.maxConnections = maxConnections;
  const refusals = new LogThrottle({ now });
  server.on('drop', (data) => {
    const suppressed = refusals.admit('drop');
    if (suppressed !== undefined) log.warn({ remote: data?.remoteAddress, maxConnections, refusedSinceLast: suppressed }, `API connection refused: ${maxConnections} already open (--max-api-connections)`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue (the kernel caps it at net.core.somaxconn): in a join or reconnect
    // storm Node's default of 511 overflows, and dropped SYNs come back only after 1, 3, 7 s…
    server.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err: errorMessage(err) }, 'API listener error'));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url, maxConnections, requestTimeoutMs: requestTimeout }, 'API listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets and log streams would hold close() open indefinitely.
        server.closeAllConnections();
        router.closeUpgraded();
      });
      return closing;
    },
  };
}
