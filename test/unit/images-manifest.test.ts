import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { checkImageManifest, MediaType, parseImageConfig, parseManifest } from '../../agent/src/images/manifest.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('manifests', () => {
  it('parses an OCI index, including one without mediaType', () => {
    const idx = { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: D('a'), size: 10, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }] };
    const p = parseManifest(buf(idx));
    expect(p.kind).toBe('index');
    if (p.kind === 'index') expect(p.index.manifests[0]!.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parseManifest(buf({ ...idx, mediaType: MediaType.DockerManifestList })).kind).toBe('index');
  });

  it('parses image manifests and checks layer media types', () => {
    const m = { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: { mediaType: MediaType.DockerConfig, digest: D('c'), size: 5 }, layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D('1'), size: 1 }] };
    const p = parseManifest(buf(m));
    expect(p.kind).toBe('manifest');
    if (p.kind !== 'manifest') return;
    expect(checkImageManifest(p.manifest, 'x')).toEqual(['gzip']);
    const zstd = { ...p.manifest, layers: [{ mediaType: MediaType.OciLayerZstd, digest: D('1'), size: 1 }] };
    expect(() => checkImageManifest(zstd, 'x')).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedMediaType }));
    const artifact = { ...p.manifest, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: D('c'), size: 1 } };
    expect(() => checkImageManifest(artifact, 'x')).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedMediaType }));
  });

  it('rejects schema 1, bad digests and non-JSON', () => {
    expect(() => parseManifest(buf({ schemaVersion: 1, name: 'x' }))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedMediaType }));
    expect(() => parseManifest(buf({ schemaVersion: 2, config: { mediaType: 'x', digest: 'md5:1', size: 1 }, layers: [] }))).toThrow(expect.objectContaining({ code: ErrorCode.ManifestInvalid }));
    expect(() => parseManifest(Buffer.from('<html>'))).toThrow(expect.objectContaining({ code: ErrorCode.ManifestInvalid }));
    expect(() => parseManifest(buf({ schemaVersion: 2, config: { mediaType: 'x', digest: D('a'), size: -1 }, layers: [] }))).toThrow(expect.objectContaining({ code: ErrorCode.ManifestInvalid }));
  });

  it('extracts the run config, platform and diff_ids from an image config', () => {
    const cfg = parseImageConfig(
      buf({
        architecture: 'arm',
        os: 'linux',
        variant: 'v7',
        config: { Env: ['A=1'], Entrypoint: ['/init'], Cmd: null, WorkingDir: '/app', User: '1000:1000', Labels: { a: 'b' }, StopSignal: 'SIGINT' },
        rootfs: { type: 'layers', diff_ids: [D('1')] },
      }),
    );
    expect(cfg).toEqual({
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      runConfig: { env: ['A=1'], entrypoint: ['/init'], cmd: [], workingDir: '/app', user: '1000:1000', labels: { a: 'b' }, stopSignal: 'SIGINT' },
      diffIds: [D('1')],
    });
    expect(() => parseImageConfig(buf({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['nope'] } }))).toThrow(expect.objectContaining({ code: ErrorCode.ManifestInvalid }));
  });

  it('reads when the image was built, and nothing odd in its place', () => {
    const base = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('1')] } };
    expect(parseImageConfig(buf({ ...base, created: '2024-05-01T10:11:12.123456789Z' })).created).toBe('2024-05-01T10:11:12.123456789Z');
    expect(parseImageConfig(buf({ ...base, created: '2024-05-01T10:11:12+02:00' })).created).toBe('2024-05-01T10:11:12+02:00');
    expect(parseImageConfig(buf(base))).not.toHaveProperty('created');
    for (const created of [42, 'yesterday', '2024-13-45T99:99:99Z', `2024-05-01T10:11:12.${'1'.repeat(80)}Z`]) {
      expect(parseImageConfig(buf({ ...base, created })).created).toBeUndefined();
    }
  });
});
