import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { isLoopbackHost, loadRegistriesConfig, parseRegistriesConfig, resolveEndpoints } from '../../agent/src/images/registries-config.js';

function errorOf(fn: () => unknown): GroveError {
  try {
    fn();
  } catch (err) {
    return err as GroveError;
  }
  throw new Error('did not throw');
}

describe('registries config', () => {
  it('accepts the documented shape', () => {
    const config = parseRegistriesConfig({
      mirrors: { 'docker.io': { endpoints: ['http://127.0.0.1:5000/', 'https://mirror.example.com/v2'] } },
      configs: {
        '127.0.0.1:5000': { auth: { username: 'u', password: 'p' } },
        'registry.lan:5000': { insecure: true, auth: { token: 't' } },
      },
    });
    expect(config.mirrors['docker.io']!.endpoints).toEqual(['http://127.0.0.1:5000', 'https://mirror.example.com']);
    expect(config.configs['registry.lan:5000']).toEqual({ insecure: true, auth: { token: 't' } });
    expect(parseRegistriesConfig(undefined)).toEqual({ mirrors: {}, configs: {} });
  });

  it.each([
    [[], '(top level)'],
    [{ mirror: {} }, '(top level).mirror'],
    [{ mirrors: { 'docker.io': { endpoints: 'http://x' } } }, 'mirrors["docker.io"].endpoints'],
    [{ mirrors: { 'docker.io': { endpoints: ['ftp://x'] } } }, 'mirrors["docker.io"].endpoints[0]'],
    [{ mirrors: { 'docker.io': { endpoints: ['not a url'] } } }, 'mirrors["docker.io"].endpoints[0]'],
    [{ mirrors: { 'docker.io': { endpoints: ['https://u:p@x'] } } }, 'mirrors["docker.io"].endpoints[0]'],
    [{ configs: { 'r:5000': { auth: { username: 'u' } } } }, 'configs["r:5000"].auth.password'],
    [{ configs: { 'r:5000': { auth: { token: '' } } } }, 'configs["r:5000"].auth.token'],
    [{ configs: { 'r:5000': { auth: { token: 't', username: 'u', password: 'p' } } } }, 'configs["r:5000"].auth'],
    [{ configs: { 'r:5000': { insecure: 'yes' } } }, 'configs["r:5000"].insecure'],
    [{ configs: { 'r:5000': { tls: {} } } }, 'configs["r:5000"].tls'],
  ])('rejects %j naming %s', (value, field) => {
    const err = errorOf(() => parseRegistriesConfig(value, 'registries.json'));
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.message).toContain(`registries.json: ${field}`);
    expect(err.message).not.toContain('\n');
  });

  it('refuses plain http to a non-loopback mirror unless marked insecure', () => {
    const err = errorOf(() => parseRegistriesConfig({ mirrors: { 'docker.io': { endpoints: ['http://10.0.0.5:5000'] } } }));
    expect(err.code).toBe(ErrorCode.InsecureRegistry);
    expect(err.message).toContain('configs["10.0.0.5:5000"].insecure');
    const ok = parseRegistriesConfig({ mirrors: { 'docker.io': { endpoints: ['http://10.0.0.5:5000'] } }, configs: { '10.0.0.5:5000': { insecure: true } } });
    expect(resolveEndpoints(ok, 'docker.io')[0]!.url).toBe('http://10.0.0.5:5000');
    for (const host of ['http://127.0.0.1:5000', 'http://127.1.2.3', 'http://[::1]:5000', 'http://localhost:5000']) {
      expect(() => parseRegistriesConfig({ mirrors: { 'docker.io': { endpoints: [host] } } })).not.toThrow();
    }
  });

  it('resolves mirrors in order, then the origin', () => {
    const config = parseRegistriesConfig({
      mirrors: { 'docker.io': { endpoints: ['http://127.0.0.1:5000', 'https://mirror.example.com'] }, '*': { endpoints: ['https://catch-all.example.com'] } },
      configs: { 'mirror.example.com': { auth: { username: 'm', password: 'p' } }, 'docker.io': { auth: { token: 'hub' } } },
    });
    expect(resolveEndpoints(config, 'docker.io')).toEqual([
      { url: 'http://127.0.0.1:5000', host: '127.0.0.1:5000', mirror: true },
      { url: 'https://mirror.example.com', host: 'mirror.example.com', mirror: true, auth: { username: 'm', password: 'p' } },
      { url: 'https://registry-1.docker.io', host: 'registry-1.docker.io', mirror: false, auth: { token: 'hub' } },
    ]);
    expect(resolveEndpoints(config, 'ghcr.io').map((e) => e.url)).toEqual(['https://catch-all.example.com', 'https://ghcr.io']);
  });

  it('uses plain http for loopback or insecure origins only', () => {
    const config = parseRegistriesConfig({ configs: { 'registry.lan:5000': { insecure: true } } });
    expect(resolveEndpoints(config, '127.0.0.1:5000')[0]!.url).toBe('http://127.0.0.1:5000');
    expect(resolveEndpoints(config, 'localhost:5000')[0]!.url).toBe('http://localhost:5000');
    expect(resolveEndpoints(config, 'registry.lan:5000')[0]!.url).toBe('http://registry.lan:5000');
    expect(resolveEndpoints(config, 'registry.other:5000')[0]!.url).toBe('https://registry.other:5000');
  });

  it('knows loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackHost('127.255.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]:443')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
  });

  it('loads <data-dir>/registries.json (missing file = empty config, bad JSON = ConfigInvalid)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grove-regcfg-'));
    try {
      expect(await loadRegistriesConfig(join(dir, 'registries.json'))).toEqual({ mirrors: {}, configs: {} });
      await writeFile(join(dir, 'registries.json'), '{ "mirrors": ');
      await expect(loadRegistriesConfig(join(dir, 'registries.json'))).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
      await writeFile(join(dir, 'registries.json'), JSON.stringify({ mirrors: { 'docker.io': { endpoints: ['http://127.0.0.1:5000'] } } }));
      expect((await loadRegistriesConfig(join(dir, 'registries.json'))).mirrors['docker.io']!.endpoints).toEqual(['http://127.0.0.1:5000']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
