import type { Logger } from 'pino';
import { ErrorCode, GroveError, isGroveError } from '../../../src/core/errors.js';
import { formatImageRef, type ImageRef } from '../../../src/core/image-ref.js';
import { basicAuthorization, parseWwwAuthenticate, TokenCache, type AuthChallenge } from './auth.js';
import { assertDigest, isDigest, sha256Digest } from './digest.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { isLoopbackHost, resolveEndpoints, type RegistriesConfig, type RegistryEndpoint } from './registries-config.js';

export type FetchFn = typeof globalThis.fetch;

export interface RegistryClientOptions {
  config: RegistriesConfig;
  logger: Logger;
  fetch?: FetchFn;
  now?: () => number;
  /** Time allowed for manifest/token requests (default 30 s). */
  requestTimeoutMs?: number;
  /** Largest manifest accepted (default 4 MiB). */
  maxManifestBytes?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type without parameters. */
  contentType: string | undefined;
  /** sha256 of the body bytes. */
  digest: string;
  endpoint: RegistryEndpoint;
}

/** What Authorization a request carried, to word a refusal precisely. */
type SentAuth = 'none' | 'basic' | 'static' | 'token-credentials' | 'token-anonymous';
interface SentHeader {
  authorization: string | undefined;
  kind: SentAuth;
}

const MAX_REDIRECTS = 5;
const USER_AGENT = 'grove-agent';
const MAX_ERROR_BODY = 64 * 1024;

function unavailable(host: string, err: unknown): GroveError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new GroveError(ErrorCode.RegistryUnavailable, `registry ${host} is unreachable (${why})`, { cause: err, details: { host } });
}

/** Reads a body, refusing more than `max` bytes (Content-Length checked first). */
export async function readLimited(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new GroveError(ErrorCode.SizeLimit, `${what} is ${declared} bytes, over the ${max}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body) {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > max) {
          await res.body.cancel().catch(() => undefined);
          throw new GroveError(ErrorCode.SizeLimit, `${what} exceeds the ${max}-byte limit`);
        }
        chunks.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (err instanceof GroveError) throw err;
      throw new GroveError(ErrorCode.RegistryUnavailable, `reading ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return Buffer.concat(chunks);
}

/** Registry error codes from an error body ({"errors":[{"code":"MANIFEST_UNKNOWN",…}]}). */
async function errorCodes(res: Response): Promise<string[]> {
  try {
    const body = JSON.parse((await readLimited(res, MAX_ERROR_BODY, 'error body')).toString('utf8')) as { errors?: { code?: unknown }[] };
    return (body.errors ?? []).map((e) => String(e.code ?? ''));
  } catch {
    return [];
  }
}

/**
 * OCI distribution v2 client: manifests and blobs over fetch, with anonymous, basic and
 * bearer-token auth (token cached per realm/service/scope), manual redirects (credentials are
 * dropped when a redirect leaves the registry's origin), mirrors tried in order then the origin.
 */
export class RegistryClient {
  private readonly fetchImpl: FetchFn;
  private readonly log: Logger;
  private readonly tokens: TokenCache;
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  /** Last challenge seen per endpoint URL, so later requests authenticate up front. */
  private readonly challenges = new Map<string, AuthChallenge>();

  constructor(private readonly options: RegistryClientOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.log = options.logger;
    this.tokens = new TokenCache(options.now ?? Date.now);
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
  }

  endpoints(registry: string): RegistryEndpoint[] {
    return resolveEndpoints(this.options.config, registry);
  }

  /**
   * Fetches `reference` (tag or digest) of `ref.repository`, trying each endpoint in turn.
   * The digest is the sha256 of the body; when fetched by digest it must match.
   */
  async getManifest(ref: ImageRef, reference: string, signal?: AbortSignal, endpoints = this.endpoints(ref.registry)): Promise<FetchedManifest> {
    const failures: { endpoint: RegistryEndpoint; error: GroveError }[] = [];
    for (const endpoint of endpoints) {
      try {
        return await this.getManifestFrom(endpoint, ref, reference, signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!isGroveError(err)) throw err;
        if (err.code === ErrorCode.DigestMismatch || err.code === ErrorCode.SizeLimit) throw err;
        this.log.debug({ endpoint: endpoint.url, err: err.message }, 'manifest request failed');
        failures.push({ endpoint, error: err });
      }
    }
    throw this.combine(ref, failures);
  }

  /** One error for a manifest that no endpoint served: auth beats not-found beats the rest. */
  private combine(ref: ImageRef, failures: { endpoint: RegistryEndpoint; error: GroveError }[]): GroveError {
    const name = formatImageRef(ref);
    const auth = failures.find((f) => f.error.code === ErrorCode.RegistryAuth);
    if (auth) return auth.error;
    const notFound = failures.filter((f) => f.error.code === ErrorCode.ImageNotFound);
    const others = failures.filter((f) => f.error.code !== ErrorCode.ImageNotFound);
    const otherText = others.length > 0 ? `; ${others.map((f) => f.error.message).join('; ')}` : '';
    if (notFound.length > 0) {
      return new GroveError(
        ErrorCode.ImageNotFound,
        `image "${name}" not found in ${notFound.map((f) => f.endpoint.host).join(', ')}${otherText}`,
        { details: { reference: name, hosts: notFound.map((f) => f.endpoint.host) } },
      );
    }
    if (others.length === 1) return others[0]!.error;
    return new GroveError(ErrorCode.RegistryUnavailable, `cannot fetch "${name}": ${others.map((f) => f.error.message).join('; ')}`);
  }

  private async getManifestFrom(endpoint: RegistryEndpoint, ref: ImageRef, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request(endpoint, ref.repository, `manifests/${reference}`, { accept: MANIFEST_ACCEPT, signal, timeoutMs: this.timeoutMs });
    if (!res.ok) throw await this.responseError(res, endpoint, ref, `manifest ${reference}`);
    const bytes = await readLimited(res, this.maxManifestBytes, `manifest of ${formatImageRef(ref)}`);
    const digest = sha256Digest(bytes);
    if (isDigest(reference)) assertDigest(reference, digest, `manifest of ${formatImageRef(ref)} from ${endpoint.host}`);
    const header = res.headers.get('docker-content-digest');
    if (header && isDigest(header) && !isDigest(reference)) assertDigest(header, digest, `manifest of ${formatImageRef(ref)} from ${endpoint.host} (Docker-Content-Digest)`);
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
    return { bytes, contentType, digest, endpoint };
  }

  /** A small blob (the image config) read fully into memory and verified. */
  async getBlob(endpoint: RegistryEndpoint, ref: ImageRef, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.openBlob(endpoint, ref, digest, 0, signal, this.timeoutMs * 4);
    const bytes = await readLimited(res, maxBytes, `blob ${digest}`);
    assertDigest(digest, sha256Digest(bytes), `blob from ${endpoint.host}`);
    return bytes;
  }

  /** GET a blob from `start`; returns a 200 or 206 response or throws a classified error. */
  async openBlob(endpoint: RegistryEndpoint, ref: ImageRef, digest: string, start: number, signal?: AbortSignal, timeoutMs?: number): Promise<Response> {
    const res = await this.request(endpoint, ref.repository, `blobs/${digest}`, {
      ...(start > 0 ? { range: `bytes=${start}-` } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      signal,
    });
    if (res.status === 200 || res.status === 206) return res;
    throw await this.responseError(res, endpoint, ref, `blob ${digest}`);
  }

  private async responseError(res: Response, endpoint: RegistryEndpoint, ref: ImageRef, what: string): Promise<GroveError> {
    const codes = await errorCodes(res);
    const name = formatImageRef(ref);
    const details = { host: endpoint.host, status: res.status, codes };
    if (res.status === 404 || codes.includes('MANIFEST_UNKNOWN') || codes.includes('NAME_UNKNOWN') || codes.includes('BLOB_UNKNOWN')) {
      if (what.startsWith('manifest')) {
        return new GroveError(ErrorCode.ImageNotFound, `image "${name}" not found in ${endpoint.host}`, { details: { reference: name, ...details } });
      }
      return new GroveError(ErrorCode.RegistryError, `${what} of "${name}" not found in ${endpoint.host}`, { details });
    }
    if (res.status === 401 || res.status === 403) {
      return new GroveError(ErrorCode.RegistryAuth, `registry ${endpoint.host} denied access to ${ref.repository}`, { details });
    }
    if (res.status === 429 || res.status >= 500) {
      return new GroveError(ErrorCode.RegistryUnavailable, `registry ${endpoint.host} answered HTTP ${res.status} for ${what}`, { details });
    }
    return new GroveError(ErrorCode.RegistryError, `registry ${endpoint.host} answered HTTP ${res.status} for ${what} of "${name}"`, { details });
  }

  /**
   * Sends GET `${endpoint.url}/v2/<repository>/<path>` authenticating as needed: credentials
   * known for the endpoint are sent up front, a 401 is answered once by following its
   * challenge, and a second 401 is a RegistryAuth error naming the registry and repository.
   */
  private async request(
    endpoint: RegistryEndpoint,
    repository: string,
    path: string,
    opts: { accept?: string; range?: string; signal?: AbortSignal | undefined; timeoutMs?: number },
  ): Promise<Response> {
    const url = `${endpoint.url}/v2/${repository}/${path}`;
    const scope = `repository:${repository}:pull`;
    const headers: Record<string, string> = {};
    if (opts.accept) headers.accept = opts.accept;
    if (opts.range) headers.range = opts.range;

    let { authorization, kind } = this.cachedAuthorization(endpoint, scope);
    for (let round = 0; ; round++) {
      const res = await this.send(endpoint, url, { ...headers, ...(authorization ? { authorization } : {}) }, opts.signal, opts.timeoutMs);
      if (res.status !== 401) return res;
      await res.body?.cancel().catch(() => undefined);
      const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
      if (round >= 1 || challenges.length === 0) throw this.authError(endpoint, repository, kind);
      const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') ?? challenges[0]!;
      this.challenges.set(endpoint.url, challenge);
      this.forgetToken(challenge, scope);
      const fresh = await this.authorizationFor(endpoint, repository, challenge, scope, opts.signal);
      if (fresh.authorization === undefined) throw this.authError(endpoint, repository, 'none');
      // Re-sending what was just refused (basic credentials, a static token) cannot help.
      if (fresh.authorization === authorization) throw this.authError(endpoint, repository, kind);
      ({ authorization, kind } = fresh);
    }
  }

  /**
   * One line per situation: credentials refused (basic, static token, token service),
   * a token that does not grant pull (no access, or no such repository), or none sent.
   */
  private authError(endpoint: RegistryEndpoint, repository: string, kind: SentAuth): GroveError {
    const details = { host: endpoint.host, repository };
    const h = endpoint.host;
    switch (kind) {
      case 'basic':
      case 'static':
        return new GroveError(ErrorCode.RegistryAuth, `registry ${h} rejected the credentials for ${repository}`, { details });
      case 'token-credentials':
        return new GroveError(ErrorCode.RegistryAuth, `registry ${h} denied pull access to ${repository} with the configured credentials (no access, or the repository does not exist)`, { details });
      default:
        return new GroveError(ErrorCode.RegistryAuth, `registry ${h} requires credentials for ${repository}, or it does not exist (set configs["${h}"].auth in registries.json)`, { details });
    }
  }

  private cachedAuthorization(endpoint: RegistryEndpoint, scope: string): SentHeader {
    const auth = endpoint.auth;
    if (auth && 'token' in auth) return { authorization: `Bearer ${auth.token}`, kind: 'static' };
    const challenge = this.challenges.get(endpoint.url);
    if (challenge?.scheme === 'basic' && auth) return { authorization: basicAuthorization(auth.username, auth.password), kind: 'basic' };
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const token = this.tokens.get(TokenCache.key(challenge.params.realm, challenge.params.service, scope));
      if (token) return { authorization: `Bearer ${token}`, kind: auth ? 'token-credentials' : 'token-anonymous' };
    }
    return { authorization: undefined, kind: 'none' };
  }

  private forgetToken(challenge: AuthChallenge, scope: string): void {
    if (challenge.scheme === 'bearer' && challenge.params.realm) {
      this.tokens.delete(TokenCache.key(challenge.params.realm, challenge.params.service, scope));
    }
  }

  /** The Authorization value answering `challenge`, fetching a bearer token if needed. */
  private async authorizationFor(
    endpoint: RegistryEndpoint,
    repository: string,
    challenge: AuthChallenge,
    scope: string,
    signal?: AbortSignal,
  ): Promise<SentHeader> {
    const auth = endpoint.auth;
    if (auth && 'token' in auth) return { authorization: `Bearer ${auth.token}`, kind: 'static' };
    if (challenge.scheme === 'basic') {
      return auth ? { authorization: basicAuthorization(auth.username, auth.password), kind: 'basic' } : { authorization: undefined, kind: 'none' };
    }
    if (challenge.scheme !== 'bearer') {
      throw new GroveError(ErrorCode.RegistryAuth, `registry ${endpoint.host} asks for unsupported auth scheme "${challenge.scheme}"`);
    }
    const realm = challenge.params.realm;
    if (!realm) throw new GroveError(ErrorCode.RegistryAuth, `registry ${endpoint.host} sent a Bearer challenge without a realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new GroveError(ErrorCode.RegistryAuth, `registry ${endpoint.host} sent an invalid token realm "${realm}"`);
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && (isLoopbackHost(realmUrl.host) || endpoint.url.startsWith('http:')))) {
      throw new GroveError(ErrorCode.InsecureRegistry, `refusing token realm ${realmUrl.origin} for registry ${endpoint.host}: not https`);
    }
    const service = challenge.params.service;
    if (service) realmUrl.searchParams.set('service', service);
    realmUrl.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = basicAuthorization(auth.username, auth.password);
    let res: Response;
    try {
      res = await this.fetchImpl(realmUrl, { headers: { ...headers, 'user-agent': USER_AGENT }, signal: this.withTimeout(signal, this.timeoutMs), redirect: 'follow' });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw unavailable(realmUrl.host, err);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      throw this.authError(endpoint, repository, auth ? 'basic' : 'none');
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new GroveError(ErrorCode.RegistryUnavailable, `token service ${realmUrl.host} answered HTTP ${res.status}`);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse((await readLimited(res, 1024 * 1024, 'token response')).toString('utf8')) as typeof body;
    } catch (err) {
      if (isGroveError(err)) throw err;
      throw new GroveError(ErrorCode.RegistryAuth, `token service ${realmUrl.host} returned invalid JSON`);
    }
    const token = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (!token) throw new GroveError(ErrorCode.RegistryAuth, `token service ${realmUrl.host} returned no token`);
    this.tokens.set(TokenCache.key(realm, service, scope), token, typeof body.expires_in === 'number' ? body.expires_in : undefined);
    return { authorization: `Bearer ${token}`, kind: auth ? 'token-credentials' : 'token-anonymous' };
  }

  private withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
    if (!timeoutMs) return signal;
    const t = AbortSignal.timeout(timeoutMs);
    return signal ? AbortSignal.any([signal, t]) : t;
  }

  /** fetch with manual redirects: Authorization is kept only while the origin is unchanged. */
  private async send(endpoint: RegistryEndpoint, url: string, headers: Record<string, string>, signal?: AbortSignal, timeoutMs?: number): Promise<Response> {
    let current = new URL(url);
    const origin = current.origin;
    const sig = this.withTimeout(signal, timeoutMs);
    for (let hop = 0; ; hop++) {
      const h: Record<string, string> = { ...headers, 'user-agent': USER_AGENT };
      if (current.origin !== origin) delete h.authorization;
      let res: Response;
      try {
        res = await this.fetchImpl(current, { headers: h, signal: sig, redirect: 'manual' });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw unavailable(endpoint.host, err);
      }
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      if (!location || hop >= MAX_REDIRECTS) {
        throw new GroveError(ErrorCode.RegistryError, `registry ${endpoint.host}: ${location ? 'too many redirects' : 'redirect without Location'}`);
      }
      const next = new URL(location, current);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new GroveError(ErrorCode.RegistryError, `registry ${endpoint.host} redirected to unsupported URL scheme ${next.protocol}`);
      }
      if (current.protocol === 'https:' && next.protocol === 'http:' && !isLoopbackHost(next.host)) {
        throw new GroveError(ErrorCode.InsecureRegistry, `registry ${endpoint.host} redirected from https to plain http (${next.host})`);
      }
      this.log.debug({ from: current.href, to: next.origin }, 'following redirect');
      current = next;
    }
  }
}
