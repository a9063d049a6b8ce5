import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { parseImageRef } from '../../src/core/image-ref.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseRegistriesConfig } from '../../agent/src/images/registries-config.js';
import { RegistryClient } from '../../agent/src/images/registry-client.js';

const logger = silentLogger();
const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
const CHALLENGE = 'Bearer realm="https://auth.example.com/token",service="reg.example.com",scope="repository:app:pull"';

interface Call {
  url: string;
  authorization?: string;
  accept?: string;
}

type Handler = (url: URL, headers: Headers, calls: Call[]) => Response | Promise<Response>;

function fakeFetch(handler: Handler): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const headers = new Headers(init?.headers);
      calls.push({ url: url.href, ...(headers.get('authorization') ? { authorization: headers.get('authorization')! } : {}), ...(headers.get('accept') ? { accept: headers.get('accept')! } : {}) });
      return handler(url, headers, calls);
    },
  };
}

/** A registry that wants bearer tokens from auth.example.com, which wants u:p (or anonymous). */
function bearerRegistry(options: { anonymous?: boolean; expiresIn?: number; deny?: boolean } = {}): Handler {
  let issued = 0;
  return (url, headers) => {
    if (url.host === 'auth.example.com') {
      const auth = headers.get('authorization');
      const ok = auth === `Basic ${Buffer.from('u:p').toString('base64')}` || (options.anonymous && !auth);
      if (!ok) return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401 });
      issued++;
      return Response.json({ token: `tok${issued}`, ...(options.expiresIn ? { expires_in: options.expiresIn } : {}) });
    }
    const auth = headers.get('authorization');
    if (options.deny || !auth || !/^Bearer tok\d+$/.test(auth)) return new Response('', { status: 401, headers: { 'www-authenticate': CHALLENGE } });
    return new Response(new Uint8Array(manifest), { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest } });
  };
}

function client(fetchImpl: typeof fetch, config: unknown = {}, now?: () => number): RegistryClient {
  return new RegistryClient({ config: parseRegistriesConfig(config), logger, fetch: fetchImpl, ...(now ? { now } : {}) });
}

const creds = { configs: { 'reg.example.com': { auth: { username: 'u', password: 'p' } } } };
const ref = parseImageRef('reg.example.com/app:latest');

describe('RegistryClient auth', () => {
  it('follows a bearer challenge with credentials and caches the token per scope', async () => {
    const f = fakeFetch(bearerRegistry());
    const c = client(f.fetch, creds);
    const got = await c.getManifest(ref, 'latest');
    expect(got.digest).toBe(digest);
    expect(got.contentType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(f.calls.map((x) => new URL(x.url).host)).toEqual(['reg.example.com', 'auth.example.com', 'reg.example.com']);
    const tokenUrl = new URL(f.calls[1]!.url);
    expect(tokenUrl.searchParams.get('service')).toBe('reg.example.com');
    expect(tokenUrl.searchParams.get('scope')).toBe('repository:app:pull');
    expect(f.calls[0]!.accept).toContain('application/vnd.oci.image.index.v1+json');
    expect(f.calls[0]!.accept).toContain('application/vnd.docker.distribution.manifest.v2+json');
    f.calls.length = 0;
    await c.getManifest(ref, 'latest');
    expect(f.calls).toEqual([expect.objectContaining({ authorization: 'Bearer tok1' })]);
  });

  it('gets an anonymous token when no credentials are configured', async () => {
    const f = fakeFetch(bearerRegistry({ anonymous: true }));
    await client(f.fetch).getManifest(ref, 'latest');
    expect(f.calls[1]!.authorization).toBeUndefined();
  });

  it('fetches a new token after the cached one expires', async () => {
    let now = 0;
    const f = fakeFetch(bearerRegistry({ expiresIn: 60 }));
    const c = client(f.fetch, creds, () => now);
    await c.getManifest(ref, 'latest');
    now = 120_000;
    f.calls.length = 0;
    await c.getManifest(ref, 'latest');
    expect(f.calls.map((x) => new URL(x.url).host)).toEqual(['reg.example.com', 'auth.example.com', 'reg.example.com']);
    expect(f.calls[2]!.authorization).toBe('Bearer tok2');
  });

  it('wrong credentials are one clear RegistryAuth line', async () => {
    const f = fakeFetch(bearerRegistry());
    const err = (await client(f.fetch, { configs: { 'reg.example.com': { auth: { username: 'u', password: 'bad' } } } }).getManifest(ref, 'latest').catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.RegistryAuth);
    expect(err.message).toBe('registry reg.example.com rejected the credentials for app');
  });

  it('a token that does not grant pull (valid credentials, no access or no such repository) says so', async () => {
    const f = fakeFetch(bearerRegistry({ deny: true }));
    const err = (await client(f.fetch, creds).getManifest(ref, 'latest').catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.RegistryAuth);
    expect(err.message).toBe('registry reg.example.com denied pull access to app with the configured credentials (no access, or the repository does not exist)');
  });

  it('anonymous access to a protected repository says credentials are required', async () => {
    const f = fakeFetch(bearerRegistry());
    const err = (await client(f.fetch).getManifest(ref, 'latest').catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.RegistryAuth);
    expect(err.message).toMatch(/^registry reg\.example\.com requires credentials for app/);
  });

  it('basic challenges get basic credentials; a static token is sent as is', async () => {
    const f = fakeFetch((url, headers) =>
      headers.get('authorization') === `Basic ${Buffer.from('u:p').toString('base64')}` || headers.get('authorization') === 'Bearer static'
        ? new Response(new Uint8Array(manifest))
        : new Response('', { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } }),
    );
    const c = client(f.fetch, creds);
    await c.getManifest(ref, 'latest');
    f.calls.length = 0;
    await c.getManifest(ref, 'latest');
    expect(f.calls).toHaveLength(1); // basic sent up front once the scheme is known
    const t = fakeFetch((_url, headers) => (headers.get('authorization') === 'Bearer static' ? new Response(new Uint8Array(manifest)) : new Response('', { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } })));
    await client(t.fetch, { configs: { 'reg.example.com': { auth: { token: 'static' } } } }).getManifest(ref, 'latest');
    expect(t.calls).toEqual([expect.objectContaining({ authorization: 'Bearer static' })]);
  });

  it('refuses to send credentials to a plain-http token realm', async () => {
    const f = fakeFetch(() => new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://auth.example.com/token"' } }));
    await expect(client(f.fetch, creds).getManifest(ref, 'latest')).rejects.toMatchObject({ code: ErrorCode.InsecureRegistry });
  });
});

describe('RegistryClient responses', () => {
  const ok = (body: Buffer, headers: Record<string, string> = {}): Response => new Response(new Uint8Array(body), { headers });

  it('verifies the digest when pulled by digest and against Docker-Content-Digest', async () => {
    const other = `sha256:${'a'.repeat(64)}`;
    await expect(client(fakeFetch(() => ok(manifest)).fetch).getManifest(ref, other)).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    await expect(client(fakeFetch(() => ok(manifest, { 'docker-content-digest': other })).fetch).getManifest(ref, 'latest')).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
    expect((await client(fakeFetch(() => ok(manifest)).fetch).getManifest(ref, digest)).digest).toBe(digest);
  });

  it('limits manifest size', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    await expect(client(fakeFetch(() => ok(big)).fetch).getManifest(ref, 'latest')).rejects.toMatchObject({ code: ErrorCode.SizeLimit });
    const chunked = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < 5; i++) ctl.enqueue(new Uint8Array(1024 * 1024));
        ctl.close();
      },
    });
    await expect(client(fakeFetch(() => new Response(chunked)).fetch).getManifest(ref, 'latest')).rejects.toMatchObject({ code: ErrorCode.SizeLimit });
  });

  it('maps 404, 5xx and network errors', async () => {
    const notFound = fakeFetch(() => new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 }));
    const err = (await client(notFound.fetch).getManifest(ref, 'latest').catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.ImageNotFound);
    expect(err.message).toBe('image "reg.example.com/app:latest" not found in reg.example.com');
    await expect(client(fakeFetch(() => new Response('', { status: 503 })).fetch).getManifest(ref, 'latest')).rejects.toMatchObject({ code: ErrorCode.RegistryUnavailable });
    const down = fakeFetch(() => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })));
    const e2 = (await client(down.fetch).getManifest(ref, 'latest').catch((e: unknown) => e)) as GroveError;
    expect(e2.code).toBe(ErrorCode.RegistryUnavailable);
    expect(e2.message).toBe('registry reg.example.com is unreachable (ECONNREFUSED)');
  });

  it('tries mirrors in order and reports the auth error before not-found', async () => {
    const config = { mirrors: { 'docker.io': { endpoints: ['https://m1.example.com', 'https://m2.example.com'] } } };
    const f = fakeFetch((url) => {
      if (url.host === 'm1.example.com') return new Response('', { status: 500 });
      if (url.host === 'm2.example.com') return ok(manifest);
      throw new Error('origin must not be asked');
    });
    const got = await client(f.fetch, config).getManifest(parseImageRef('busybox'), 'latest');
    expect(got.endpoint.host).toBe('m2.example.com');
    expect(f.calls.map((x) => x.url)).toEqual(['https://m1.example.com/v2/library/busybox/manifests/latest', 'https://m2.example.com/v2/library/busybox/manifests/latest']);
    const g = fakeFetch((url) =>
      url.host === 'm1.example.com' ? new Response('', { status: 404 }) : url.host === 'm2.example.com' ? new Response('', { status: 401 }) : new Response('', { status: 404 }),
    );
    await expect(client(g.fetch, config).getManifest(parseImageRef('busybox'), 'latest')).rejects.toMatchObject({ code: ErrorCode.RegistryAuth });
  });

  it('follows redirects for blobs, dropping Authorization across origins and refusing https→http', async () => {
    const blob = Buffer.from('blob-content');
    const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const f = fakeFetch((url) => {
      if (url.host === 'reg.example.com') return new Response(null, { status: 307, headers: { location: `https://storage.example.com/x?sig=1` } });
      return ok(blob);
    });
    const c = client(f.fetch, { configs: { 'reg.example.com': { auth: { token: 'secret' } } } });
    const endpoint = c.endpoints('reg.example.com')[0]!;
    expect((await c.getBlob(endpoint, ref, blobDigest, 1024)).toString()).toBe('blob-content');
    expect(f.calls[0]!.authorization).toBe('Bearer secret');
    expect(f.calls[1]).toEqual({ url: 'https://storage.example.com/x?sig=1' });
    const down = fakeFetch((url) => (url.protocol === 'https:' ? new Response(null, { status: 302, headers: { location: 'http://storage.example.com/x' } }) : ok(blob)));
    const c2 = client(down.fetch);
    await expect(c2.getBlob(c2.endpoints('reg.example.com')[0]!, ref, blobDigest, 1024)).rejects.toMatchObject({ code: ErrorCode.InsecureRegistry });
  });

  it('verifies small blobs', async () => {
    const c = client(fakeFetch(() => ok(Buffer.from('tampered'))).fetch);
    await expect(c.getBlob(c.endpoints('reg.example.com')[0]!, ref, digest, 1024)).rejects.toMatchObject({ code: ErrorCode.DigestMismatch });
  });
});
