import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { matches, parseSelector } from '../../src/server/objects/label-selector.js';

const sel = (text: string, labels?: Record<string, string>) => matches(parseSelector(text), labels);

describe('label selectors', () => {
  it('parses every operator kubectl sends', () => {
    expect(parseSelector('app=web, tier==front,env!=dev,canary,!legacy,zone in (a, b),os notin (windows)')).toEqual([
      { key: 'app', op: 'in', values: ['web'] },
      { key: 'tier', op: 'in', values: ['front'] },
      { key: 'env', op: 'notin', values: ['dev'] },
      { key: 'canary', op: 'exists' },
      { key: 'legacy', op: 'notexists' },
      { key: 'zone', op: 'in', values: ['a', 'b'] },
      { key: 'os', op: 'notin', values: ['windows'] },
    ]);
    expect(parseSelector('app.kubernetes.io/name=web')).toEqual([{ key: 'app.kubernetes.io/name', op: 'in', values: ['web'] }]);
  });

  it('matches as Kubernetes: != and notin also select objects without the label', () => {
    expect(sel('app=web', { app: 'web' })).toBe(true);
    expect(sel('app=web', { app: 'api' })).toBe(false);
    expect(sel('app=web', undefined)).toBe(false);
    expect(sel('env!=dev', {})).toBe(true);
    expect(sel('env!=dev', { env: 'dev' })).toBe(false);
    expect(sel('os notin (windows)', undefined)).toBe(true);
    expect(sel('zone in (a,b)', { zone: 'b' })).toBe(true);
    expect(sel('zone in (a,b)', { zone: 'c' })).toBe(false);
    expect(sel('canary', { canary: '' })).toBe(true);
    expect(sel('!canary', { canary: '' })).toBe(false);
    expect(sel('app=web,!legacy', { app: 'web', legacy: 'yes' })).toBe(false);
    expect(sel('', undefined)).toBe(true);
  });

  it('refuses malformed selectors with InvalidArgument', () => {
    for (const bad of ['app=we b', 'zone in (a,b', 'zone in ((a))', ',', 'app=web,', '-bad=1', 'x'.repeat(5000)]) {
      let err: unknown;
      try {
        parseSelector(bad);
      } catch (e) {
        err = e;
      }
      expect(isGroveError(err, ErrorCode.InvalidArgument), bad.slice(0, 20)).toBe(true);
    }
  });
});
