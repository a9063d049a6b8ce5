import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import type { ImageRunConfig } from '../../agent/src/images/types.js';
import {
  DEFAULT_PATH,
  containerHostname,
  resolveProcess,
  validateContainerName,
  type ContainerSpec,
} from '../../agent/src/runtime/container-spec.js';

const ID = 'abcdef0123456789abcdef0123456789';

function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return { id: ID, name: 'web', image: 'docker.io/library/busybox:latest', imageDigest: 'sha256:' + 'a'.repeat(64), env: [], limits: {}, labels: {}, ...over };
}

function image(over: Partial<ImageRunConfig> = {}): ImageRunConfig {
  return { env: ['PATH=/bin:/usr/bin', 'LANG=C'], entrypoint: [], cmd: ['sh'], workingDir: '', user: '', labels: {}, ...over };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isGroveError(err) ? err.code : 'not a GroveError';
  }
  return undefined;
}

describe('resolveProcess', () => {
  it('runs entrypoint + cmd from the image by default', () => {
    const p = resolveProcess(spec(), image({ entrypoint: ['/init'], cmd: ['--serve'] }));
    expect(p.args).toEqual(['/init', '--serve']);
    expect(p.cwd).toBe('/');
    expect(p.user).toBe('');
  });

  it('lets given args replace cmd but keep the entrypoint', () => {
    expect(resolveProcess(spec({ args: ['echo', 'hi'] }), image({ entrypoint: ['/tini', '--'] })).args).toEqual(['/tini', '--', 'echo', 'hi']);
  });

  it('clears the image cmd when the entrypoint is overridden (docker --entrypoint)', () => {
    expect(resolveProcess(spec({ entrypoint: ['/bin/cat'] }), image({ cmd: ['sh'] })).args).toEqual(['/bin/cat']);
    expect(resolveProcess(spec({ entrypoint: ['/bin/cat'], args: ['/etc/hosts'] }), image()).args).toEqual(['/bin/cat', '/etc/hosts']);
  });

  it('fails clearly without any command', () => {
    expect(code(() => resolveProcess(spec(), image({ cmd: [] })))).toBe(ErrorCode.InvalidArgument);
    expect(() => resolveProcess(spec(), image({ cmd: [] }))).toThrow('no command: image has no Entrypoint/Cmd and none was given');
    expect(code(() => resolveProcess(spec({ entrypoint: [] }), image()))).toBe(ErrorCode.InvalidArgument);
  });

  it('merges env: image over defaults, spec over image, replaced keys keep their position', () => {
    const p = resolveProcess(spec({ env: ['LANG=en_US.UTF-8', 'NEW=1', 'EQ=a=b'] }), image());
    expect(p.env).toEqual(['PATH=/bin:/usr/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'LANG=en_US.UTF-8', 'NEW=1', 'EQ=a=b']);
  });

  it('uses the default PATH when the image sets none, and a bare KEY deletes', () => {
    const p = resolveProcess(spec({ env: ['LANG'], hostname: 'box' }), image({ env: ['LANG=C'] }));
    expect(p.env).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=box']);
  });

  it('rejects an env entry without a name', () => {
    expect(code(() => resolveProcess(spec({ env: ['=x'] }), image()))).toBe(ErrorCode.InvalidArgument);
  });

  it('takes workingDir and user from the spec over the image, and requires an absolute cwd', () => {
    const p = resolveProcess(spec({ workingDir: '/srv/app/', user: '1000:1000' }), image({ workingDir: '/data', user: 'nobody' }));
    expect(p.cwd).toBe('/srv/app/');
    expect(p.user).toBe('1000:1000');
    expect(resolveProcess(spec(), image({ workingDir: '/data', user: 'nobody' }))).toMatchObject({ cwd: '/data', user: 'nobody' });
    expect(code(() => resolveProcess(spec({ workingDir: 'relative' }), image()))).toBe(ErrorCode.InvalidArgument);
  });
});

describe('container names and hostnames', () => {
  it.each(['web', 'a', 'my_app.v2-1', '0abc', 'x'.repeat(128)])('accepts %s', (name) => {
    expect(() => validateContainerName(name)).not.toThrow();
  });

  it.each(['', '-web', '_web', '.web', 'web app', 'web/1', 'wé', 'x'.repeat(129)])('rejects "%s"', (name) => {
    expect(code(() => validateContainerName(name))).toBe(ErrorCode.InvalidArgument);
  });

  it('defaults the hostname to the first 12 characters of the id', () => {
    expect(containerHostname({ id: ID })).toBe('abcdef012345');
    expect(containerHostname({ id: ID, hostname: 'sensor-1' })).toBe('sensor-1');
  });
});
