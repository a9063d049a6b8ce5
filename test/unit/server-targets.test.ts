import { describe, expect, it } from 'vitest';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { buildNodePods, canonicalJson, templateHash } from '../../src/server/targets.js';
import { app, pod } from './server-fixtures.js';

describe('templateHash', () => {
  it('is 16 hex digits and ignores key order', () => {
    const a = app('web');
    const b = app('web');
    b.spec.template = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a.spec.template).reverse())));
    expect(templateHash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(templateHash(b)).toBe(templateHash(a));
  });

  it('changes with the template but not with the app name, labels or replicas', () => {
    const base = templateHash(app('web'));
    expect(templateHash(app('web', { version: '2' }))).not.toBe(base);
    const other = app('web', { replicas: 5 });
    other.meta.labels = { tier: 'front' };
    expect(templateHash(other)).toBe(base);
  });

  it('canonicalJson sorts nested keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: undefined, x: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[{"x":2,"z":1}]},"b":1}');
  });
});

describe('buildNodePods', () => {
  const web = app('web', { memory: 64 * 1024 * 1024 });
  const h = templateHash(web);

  it('lists the node’s pods sorted by name with the template’s containers', () => {
    const pods = buildNodePods('a', [pod('web-z', 'web', 'a', h), pod('web-b', 'web', 'a', h), pod('web-c', 'web', 'b', h)], [web]);
    expect(pods.map((p) => p.name)).toEqual(['web-b', 'web-z']);
    expect(pods[0]).toEqual({
      name: 'web-b',
      app: 'web',
      templateHash: h,
      restartPolicy: 'Always',
      hostNetwork: false,
      containers: [
        { name: 'main', image: 'docker.io/library/nginx:1.27', env: [{ name: 'VERSION', value: '1' }], resources: { memoryBytes: 64 * 1024 * 1024 } },
      ],
    });
  });

  it('leaves out pods of unknown apps and pods on an outdated template', () => {
    expect(buildNodePods('a', [pod('x-1', 'gone', 'a', h), pod('web-1', 'web', 'a', 'old0000000000000')], [web])).toEqual([]);
  });

  it('carries command, args and workingDir only when set', () => {
    const a = app('job');
    a.spec.template.containers[0] = { ...a.spec.template.containers[0]!, command: ['/bin/sh'], args: ['-c', 'echo'], workingDir: '/w' };
    const [p] = buildNodePods('n', [pod('job-1', 'job', 'n', templateHash(a))], [a]);
    expect(p!.containers[0]).toMatchObject({ command: ['/bin/sh'], args: ['-c', 'echo'], workingDir: '/w' });
    const [q] = buildNodePods('a', [pod('web-1', 'web', 'a', h)], [web]);
    expect(Object.keys(q!.containers[0]!)).toEqual(['name', 'image', 'env', 'resources']);
  });

  it('carries terminationGracePeriodSeconds and imagePullPolicy when set, and only then', () => {
    const a = app('web');
    a.spec.template.terminationGracePeriodSeconds = 45;
    a.spec.template.containers[0] = { ...a.spec.template.containers[0]!, imagePullPolicy: 'Never' };
    const [p] = buildNodePods('n', [pod('web-1', 'web', 'n', templateHash(a))], [a]);
    expect(p!.terminationGracePeriodSeconds).toBe(45);
    expect(p!.containers[0]!.imagePullPolicy).toBe('Never');
    // 0 is a real value (kill at once), not "unset".
    a.spec.template.terminationGracePeriodSeconds = 0;
    const [z] = buildNodePods('n', [pod('web-1', 'web', 'n', templateHash(a))], [a]);
    expect(z!.terminationGracePeriodSeconds).toBe(0);
    const [q] = buildNodePods('a', [pod('web-1', 'web', 'a', h)], [web]);
    expect('terminationGracePeriodSeconds' in q!).toBe(false);
    expect('imagePullPolicy' in q!.containers[0]!).toBe(false);
  });

  it('gets both fields to the agent intact through the wire codec', () => {
    const a = app('web');
    a.spec.template.terminationGracePeriodSeconds = 90;
    a.spec.template.containers[0] = { ...a.spec.template.containers[0]!, imagePullPolicy: 'Always' };
    const pods = buildNodePods('n', [pod('web-1', 'web', 'n', templateHash(a))], [a]);
    const decoded = decodeNodeTarget(encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods, issuedAt: '2025-01-01T00:00:00Z' })));
    expect(decoded.pods[0]).toMatchObject({ terminationGracePeriodSeconds: 90, containers: [{ imagePullPolicy: 'Always' }] });
  });
});
