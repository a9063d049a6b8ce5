import { describe, expect, it } from 'vitest';
import { displayImageRef, formatImageRef, parseImageRef } from '../../src/core/image-ref.js';
import { ErrorCode } from '../../src/core/errors.js';

describe('parseImageRef', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['index.docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/team/app:v1', '127.0.0.1:5000/team/app:v1'],
    ['ghcr.io/org/tool', 'ghcr.io/org/tool:latest'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`reg.local:443/x:1@sha256:${'b'.repeat(64)}`, `reg.local:443/x:1@sha256:${'b'.repeat(64)}`],
  ])('normalises %s the way docker does', (input, canonical) => {
    expect(formatImageRef(parseImageRef(input))).toBe(canonical);
  });

  it.each([
    ['my image', 'whitespace'],
    ['Busybox', 'lowercase'],
    ['busybox:', 'tag'],
    ['busybox@sha256:abc', 'digest'],
    ['', 'empty'],
    ['a//b', 'component'],
    ['x'.repeat(600), 'too long'],
  ])('rejects %j with a clear reason', (input, reason) => {
    try {
      parseImageRef(input);
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe(ErrorCode.InvalidImageReference);
      expect((err as Error).message).toContain(reason);
    }
  });

  it('displays Docker Hub official images by their short name', () => {
    expect(displayImageRef(parseImageRef('busybox'))).toBe('busybox:latest');
    expect(displayImageRef(parseImageRef('user/app:2'))).toBe('user/app:2');
    expect(displayImageRef(parseImageRef('127.0.0.1:5000/app'))).toBe('127.0.0.1:5000/app:latest');
  });
});
