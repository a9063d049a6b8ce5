import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { ImageStore, type ImageStoreOptions } from '../../agent/src/images/image-store.js';
import { hostPlatform } from '../../agent/src/images/platform.js';
import { parseRegistriesConfig } from '../../agent/src/images/registries-config.js';
import type { PullProgress } from '../../agent/src/images/types.js';
import { buildBusyboxImage, buildTwoPlatformIndex, platformString, pushImage, type BuiltImage, type BuiltIndex } from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const logger = silentLogger();
const AUTH = { username: 'grove', password: 's3cret-pw' };

interface ProxyRequest {
  method: string;
  url: string;
  range?: string;
}

type ProxyBehaviour = (req: IncomingMessage, res: ServerResponse, upstream: IncomingMessage, count: number) => boolean;

/** A loopback HTTP proxy in front of the registry whose blob responses tests can sabotage. */
async function startProxy(target: TestRegistry): Promise<{ host: string; url: string; seen: ProxyRequest[]; behave: (b?: ProxyBehaviour) => void; close: () => Promise<void> }> {
  const seen: ProxyRequest[] = [];
  let behaviour: ProxyBehaviour | undefined;
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
    const key = `${req.method} ${req.url}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    const [host, port] = target.host.split(':');
    const up = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (upstream) => {
      if (behaviour?.(req, res, upstream, count)) return;
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  const host = `127.0.0.1:${addr.port}`;
  return {
    host,
    url: `http://${host}`,
    seen,
    behave: (b) => {
      behaviour = b;
      counts.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Collects the whole upstream body, then hands it to `fn`. */
function withBody(upstream: IncomingMessage, fn: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  upstream.on('data', (c: Buffer) => chunks.push(c));
  upstream.on('end', () => fn(Buffer.concat(chunks)));
}

describeWith(['root', 'registry', 'htpasswd'], 'image store against a real docker-registry', () => {
  let registry: TestRegistry;
  let authRegistry: TestRegistry;
  let tmp: string;
  let image: BuiltImage;
  let index: BuiltIndex;
  let dockerIndex: BuiltIndex;
  let rootCounter = 0;
  const stores: string[] = [];

  const newStore = (options: Partial<ImageStoreOptions> = {}): ImageStore => {
    const root = join(tmp, `store-${rootCounter++}`);
    stores.push(root);
    return new ImageStore({ root, logger, backoffMs: 20, ...options });
  };

  /** fetch wrapper that records every URL requested. */
  const recordingFetch = (): { fetch: typeof fetch; urls: string[]; auth: Map<string, string | undefined> } => {
    const urls: string[] = [];
    const auth = new Map<string, string | undefined>();
    return {
      urls,
      auth,
      fetch: (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        urls.push(url);
        auth.set(url, new Headers(init?.headers).get('authorization') ?? undefined);
        return fetch(input, init);
      },
    };
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'grove-images-it-'));
    [registry, authRegistry] = await Promise.all([startRegistry(), startRegistry({ auth: AUTH })]);
    image = await buildBusyboxImage({ layers: [[{ name: 'data/random.bin', content: randomBytes(2 * 1024 * 1024) }]] });
    index = await buildTwoPlatformIndex();
    dockerIndex = await buildTwoPlatformIndex({ docker: true });
    await pushImage(registry.url, 'test/busybox', 'latest', image);
    await pushImage(registry.url, 'test/multi', 'latest', index);
    await pushImage(registry.url, 'test/docker-multi', 'v1', dockerIndex);
    await pushImage(registry.url, 'library/busybox', 'latest', image);
    await pushImage(authRegistry.url, 'private/busybox', 'latest', image, { auth: AUTH });
  });

  afterAll(async () => {
    await Promise.allSettled([registry?.stop(), authRegistry?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('pulls anonymously, stores verified blobs and records the image', async () => {
    const store = newStore();
    const events: PullProgress[] = [];
    const started = performance.now();
    const record = await store.pull(`${registry.host}/test/busybox`, { onProgress: (e) => events.push(e) });
    const ms = performance.now() - started;
    console.info(`[measure] anonymous pull of the busybox fixture (${record.size} bytes, ${record.layers.length} layers): ${ms.toFixed(0)} ms`);
    expect(record.names).toEqual([`${registry.host}/test/busybox:latest`]);
    expect(record.digest).toBe(image.manifest.digest);
    expect(record.configDigest).toBe(image.config.digest);
    expect(record.layers).toEqual(image.layers.map((l) => l.digest));
    expect(record.diffIds).toEqual(image.layers.map((l) => l.diffId));
    expect(record.config.cmd).toEqual(['sh']);
    expect(record.config.env[0]).toMatch(/^PATH=/);
    expect(record.platform).toEqual(hostPlatform());
    expect(record.size).toBe(image.config.size + image.layers.reduce((a, l) => a + l.size, 0));
    for (const d of [record.digest, record.configDigest, ...record.layers]) expect(await store.content.has(d)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'resolved', layers: 3 });
    expect(events.filter((e) => e.type === 'blob-done')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: 'done', digest: record.digest });
    expect(await store.get('busybox')).toBeUndefined();
    expect((await store.get(`${registry.host}/test/busybox:latest`))?.digest).toBe(record.digest);
    expect((await store.get(record.configDigest.slice(7, 19)))?.digest).toBe(record.digest);
    expect((await store.get(record.digest))?.digest).toBe(record.digest);
    expect(readFileSync(join(stores.at(-1)!, 'images.json'), 'utf8')).toContain(record.digest);
  });

  it('a second pull of a stored image fetches only the manifest', async () => {
    const rec = recordingFetch();
    const store = newStore({ fetch: rec.fetch });
    await store.pull(`${registry.host}/test/busybox:latest`);
    rec.urls.length = 0;
    const events: PullProgress[] = [];
    const again = await store.pull(`${registry.host}/test/busybox:latest`, { onProgress: (e) => events.push(e) });
    expect(again.digest).toBe(image.manifest.digest);
    expect(rec.urls).toEqual([`${registry.url}/v2/test/busybox/manifests/latest`]);
    expect(events.filter((e) => e.type === 'blob-done').every((e) => e.type === 'blob-done' && e.cached)).toBe(true);
  });

  it('pulls by digest and verifies it', async () => {
    const store = newStore();
    const record = await store.pull(`${registry.host}/test/busybox@${image.manifest.digest}`);
    expect(record.names).toEqual([`${registry.host}/test/busybox@${image.manifest.digest}`]);
    expect((await store.get(`${registry.host}/test/busybox@${image.manifest.digest}`))?.digest).toBe(record.digest);
  });

  it('resolves a two-platform OCI index to the host platform', async () => {
    const store = newStore();
    const record = await store.pull(`${registry.host}/test/multi:latest`);
    const native = index.images.find((i) => platformString(i.platform) === platformString(hostPlatform()))!;
    expect(record.digest).toBe(native.manifest.digest);
    expect(record.indexDigest).toBe(index.index.digest);
    expect(record.platform).toEqual(hostPlatform());
    const rootfs = await store.snapshot(record);
    expect(readFileSync(join(rootfs, 'etc/grove-platform'), 'utf8').trim()).toBe(platformString(hostPlatform()));
    expect(await store.content.has(index.index.digest)).toBe(true);
  });

  it('resolves a Docker manifest list, and selects arm/v7 when asked to', async () => {
    const store = newStore({ platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
    const record = await store.pull(`${registry.host}/test/docker-multi:v1`);
    expect(record.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(readFileSync(join(await store.snapshot(record), 'etc/grove-platform'), 'utf8').trim()).toBe('linux/arm/v7');
    const s390 = newStore({ platform: { os: 'linux', architecture: 's390x' } });
    const err = await s390.pull(`${registry.host}/test/docker-multi:v1`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.PlatformNotFound });
  });

  it('reports an unknown image in one line', async () => {
    const store = newStore();
    const err = (await store.pull(`${registry.host}/nope`).catch((e: unknown) => e)) as GroveError;
    expect(err).toBeInstanceOf(GroveError);
    expect(err.code).toBe(ErrorCode.ImageNotFound);
    expect(err.message).toBe(`image "${registry.host}/nope:latest" not found in ${registry.host}`);
  });

  it('pulls with basic auth from registries.json credentials', async () => {
    const registries = parseRegistriesConfig({ configs: { [authRegistry.host]: { auth: AUTH } } });
    const record = await newStore({ registries }).pull(`${authRegistry.host}/private/busybox:latest`);
    expect(record.digest).toBe(image.manifest.digest);
  });

  it('a wrong password is one clear RegistryAuth error; no credentials says so', async () => {
    const registries = parseRegistriesConfig({ configs: { [authRegistry.host]: { auth: { username: AUTH.username, password: 'wrong' } } } });
    const err = (await newStore({ registries }).pull(`${authRegistry.host}/private/busybox:latest`).catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.RegistryAuth);
    expect(err.message).toBe(`registry ${authRegistry.host} rejected the credentials for private/busybox`);
    const anon = (await newStore().pull(`${authRegistry.host}/private/busybox:latest`).catch((e: unknown) => e)) as GroveError;
    expect(anon.code).toBe(ErrorCode.RegistryAuth);
    expect(anon.message).toMatch(new RegExp(`^registry ${authRegistry.host} requires credentials for private/busybox`));
  });

  it('pulls docker.io/library/busybox through a mirror endpoint', async () => {
    const rec = recordingFetch();
    const registries = parseRegistriesConfig({ mirrors: { 'docker.io': { endpoints: [registry.url] } } });
    const store = newStore({ registries, fetch: rec.fetch });
    const record = await store.pull('busybox');
    expect(record.names).toEqual(['docker.io/library/busybox:latest']);
    expect(record.digest).toBe(image.manifest.digest);
    expect(rec.urls[0]).toBe(`${registry.url}/v2/library/busybox/manifests/latest`);
    expect(rec.urls.every((u) => u.startsWith(registry.url))).toBe(true);
    expect((await store.get('busybox:latest'))?.digest).toBe(record.digest);
  });

  it('falls back from a mirror that lacks the image to the origin, naming both in the error', async () => {
    const registries = parseRegistriesConfig({ mirrors: { 'docker.io': { endpoints: [registry.url] } } });
    const offline: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.startsWith('https://registry-1.docker.io')) return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }));
      return fetch(input, init);
    };
    const err = (await newStore({ registries, fetch: offline }).pull('nope').catch((e: unknown) => e)) as GroveError;
    expect(err.code).toBe(ErrorCode.ImageNotFound);
    expect(err.message).toBe(`image "docker.io/library/nope:latest" not found in ${registry.host}; registry registry-1.docker.io is unreachable (ENOTFOUND)`);
  });

  describe('through a sabotaging proxy', () => {
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    const bigLayer = () => image.layers[2]!;

    beforeAll(async () => {
      proxy = await startProxy(registry);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('resumes a blob download cut midway with a Range request', async () => {
      const layer = bigLayer();
      proxy.behave((req, res, upstream, count) => {
        if (!req.url?.endsWith(`/blobs/${layer.digest}`) || count !== 1) return false;
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        withBody(upstream, (body) => {
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
        });
        return true;
      });
      const store = newStore();
      const events: PullProgress[] = [];
      const record = await store.pull(`${proxy.host}/test/busybox:latest`, { onProgress: (e) => events.push(e) });
      expect(record.layers).toContain(layer.digest);
      const blobRequests = proxy.seen.filter((r) => r.url.endsWith(`/blobs/${layer.digest}`));
      expect(blobRequests.length).toBe(2);
      expect(blobRequests[0]!.range).toBeUndefined();
      expect(blobRequests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(await store.content.has(layer.digest)).toBe(true);
      expect(readdirSync(store.content.ingestDir)).toEqual([]);
      const blobEvents = events.filter((e) => e.type === 'blob' && e.digest === layer.digest);
      expect(blobEvents.at(-1)).toMatchObject({ receivedBytes: layer.size, totalBytes: layer.size });
    });

    it('resumes from a partial file left by an earlier interrupted pull', async () => {
      const layer = bigLayer();
      proxy.behave();
      proxy.seen.length = 0;
      const store = newStore();
      await store.init();
      const { writeFile } = await import('node:fs/promises');
      const half = Math.floor(layer.size / 3);
      await writeFile(store.content.partialPath(layer.digest), layer.data.subarray(0, half));
      const events: PullProgress[] = [];
      await store.pull(`${proxy.host}/test/busybox:latest`, { onProgress: (e) => events.push(e) });
      const req = proxy.seen.find((r) => r.url.endsWith(`/blobs/${layer.digest}`))!;
      expect(req.range).toBe(`bytes=${half}-`);
      expect(events.some((e) => e.type === 'blob' && e.digest === layer.digest && e.resumedFrom === half)).toBe(true);
      expect(await store.content.has(layer.digest)).toBe(true);
    });

    it('restarts cleanly when the server ignores Range (200 instead of 206)', async () => {
      const layer = bigLayer();
      proxy.behave((req, res, upstream) => {
        if (!req.url?.endsWith(`/blobs/${layer.digest}`) || !req.headers.range) return false;
        // Pretend not to support ranges: answer the whole blob with 200.
        upstream.resume();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(layer.size) });
        res.end(layer.data);
        return true;
      });
      const store = newStore();
      await store.init();
      const { writeFile } = await import('node:fs/promises');
      await writeFile(store.content.partialPath(layer.digest), layer.data.subarray(0, 1000));
      proxy.seen.length = 0;
      await store.pull(`${proxy.host}/test/busybox:latest`);
      expect(proxy.seen.find((r) => r.url.endsWith(`/blobs/${layer.digest}`))?.range).toBe('bytes=1000-');
      expect(await store.content.has(layer.digest)).toBe(true);
    });

    it('a corrupted blob is a DigestMismatch and nothing is stored', async () => {
      const layer = bigLayer();
      proxy.behave((req, res, upstream) => {
        if (!req.url?.endsWith(`/blobs/${layer.digest}`)) return false;
        res.writeHead(upstream.statusCode ?? 200, upstream.headers);
        withBody(upstream, (body) => {
          const copy = Buffer.from(body);
          copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0xff;
          res.end(copy);
        });
        return true;
      });
      const store = newStore();
      const err = (await store.pull(`${proxy.host}/test/busybox:latest`).catch((e: unknown) => e)) as GroveError;
      expect(err.code).toBe(ErrorCode.DigestMismatch);
      expect(await store.content.has(layer.digest)).toBe(false);
      expect(existsSync(store.content.partialPath(layer.digest))).toBe(false);
      expect(await store.list()).toEqual([]);
    });

    it('follows a blob redirect to another origin without forwarding credentials', async () => {
      const layer = bigLayer();
      const authSeen: (string | undefined)[] = [];
      proxy.behave((req, res, upstream) => {
        if (!req.url?.includes('/blobs/')) return false;
        upstream.resume();
        authSeen.push(req.headers.authorization);
        res.writeHead(307, { location: `${registry.url}${req.url}` });
        res.end();
        return true;
      });
      const registries = parseRegistriesConfig({ configs: { [proxy.host]: { auth: { token: 'static-token' } } } });
      const rec = recordingFetch();
      const store = newStore({ registries, fetch: rec.fetch });
      const record = await store.pull(`${proxy.host}/test/busybox:latest`);
      expect(record.layers).toContain(layer.digest);
      expect(authSeen.every((a) => a === 'Bearer static-token')).toBe(true);
      const redirected = rec.urls.filter((u) => u.startsWith(`${registry.url}/v2/test/busybox/blobs/`));
      expect(redirected.length).toBeGreaterThan(0);
      for (const u of redirected) expect(rec.auth.get(u)).toBeUndefined();
    });
  });
});
