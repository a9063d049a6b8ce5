/**
 * Discovery sorts at the server's start: with localeCompare that loaded ICU's collation tables
 * into every server for good. Code-unit order gives the same lists for Kubernetes names.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { codeUnitOrder } from '../../src/core/text-order.js';
import { kindResources } from '../../src/server/k8s-api/discovery.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('code-unit order', () => {
  it('orders Kubernetes names as localeCompare does', () => {
    const names = ['replicasets', 'metrics.k8s.io', 'apps', 'authorization.k8s.io', 'authentication.k8s.io', 'batch', 'pods', 'persistentvolumeclaims', 'cronjobs', 'v1', 'v1beta1', 'a-b', 'a.b', 'ab', 'a0'];
    expect([...names].sort(codeUnitOrder)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(codeUnitOrder('x', 'x')).toBe(0);
  });

  it('lists the kinds for discovery without localeCompare', () => {
    const spy = vi.spyOn(String.prototype, 'localeCompare');
    const plurals = kindResources().map((r) => r.plural);
    expect(spy).not.toHaveBeenCalled();
    expect(plurals).toEqual([...plurals].sort((a, b) => a.localeCompare(b)));
    expect(plurals).toContain('deployments');
  });
});
