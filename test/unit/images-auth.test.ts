import { describe, expect, it } from 'vitest';
import { basicAuthorization, parseWwwAuthenticate, TokenCache } from '../../agent/src/images/auth.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Docker Hub bearer challenge', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  it('parses the basic challenge of distribution htpasswd auth', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });
  it('parses several challenges, spaces around "=" and commas, and case-insensitive names', () => {
    expect(parseWwwAuthenticate('bearer REALM = "https://a/t" , service=svc, Basic realm="c"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/t', service: 'svc' } },
      { scheme: 'basic', params: { realm: 'c' } },
    ]);
  });
  it('unescapes quoted strings, including commas and quotes inside them', () => {
    expect(parseWwwAuthenticate('Bearer realm="a\\"b,c",error="insufficient_scope"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b,c', error: 'insufficient_scope' } },
    ]);
  });
  it('parses token68 challenges and bare schemes', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Basic realm="x"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc123==' },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate')).toEqual([{ scheme: 'negotiate', params: {} }]);
  });
  it('tolerates empty and malformed input', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
    expect(() => parseWwwAuthenticate(',,,=="" ;;')).not.toThrow();
  });
});

describe('TokenCache', () => {
  it('caches per key and expires with a safety margin', () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const key = TokenCache.key('https://auth/token', 'svc', 'repository:a:pull');
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, 'tok', 60);
    expect(cache.get(key)).toBe('tok');
    expect(cache.get(TokenCache.key('https://auth/token', 'svc', 'repository:b:pull'))).toBeUndefined();
    now += 49_000;
    expect(cache.get(key)).toBe('tok');
    now += 2_000;
    expect(cache.get(key)).toBeUndefined();
  });
  it('defaults to 60 s when expires_in is missing', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('k', 'tok', undefined);
    now = 45_000;
    expect(cache.get('k')).toBe('tok');
    now = 55_000;
    expect(cache.get('k')).toBeUndefined();
  });
});

it('basicAuthorization encodes user:password', () => {
  expect(basicAuthorization('grove', 'pä:ss')).toBe(`Basic ${Buffer.from('grove:pä:ss').toString('base64')}`);
});
