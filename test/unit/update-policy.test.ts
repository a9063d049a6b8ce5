import { describe, expect, it } from 'vitest';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { updatePolicyFromAnnotations, windowText } from '../../src/core/update-policy.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import { decodeNodeStatus } from '../../src/core/wire-from-agent.js';
import type { NodeStatus, PodTarget } from '../../src/core/wire-types.js';
import { checkObject } from '../../src/core/objects/validate.js';

const W = 'grove.io/update-window';
const D = 'grove.io/update-window-duration';
const Z = 'grove.io/update-window-timezone';
const L = 'grove.io/update-lock-max';

describe('updatePolicyFromAnnotations', () => {
  it('reads window, duration, zone and lock maximum', () => {
    expect(updatePolicyFromAnnotations({})).toBeUndefined();
    expect(updatePolicyFromAnnotations({ [W]: ' 0 2 * * * ', [D]: '2h' })).toEqual({ window: { schedule: '0 2 * * *', durationSeconds: 7200 } });
    expect(updatePolicyFromAnnotations({ [W]: '0 2 * * *' })).toEqual({ window: { schedule: '0 2 * * *', durationSeconds: 3600 } });
    expect(updatePolicyFromAnnotations({ [W]: '0 2 * * *', [Z]: 'Europe/Berlin', [L]: '30m' })).toEqual({
      window: { schedule: '0 2 * * *', durationSeconds: 3600, timeZone: 'Europe/Berlin' },
      lockMaxSeconds: 1800,
    });
    expect(updatePolicyFromAnnotations({ [L]: '0' })).toEqual({ lockMaxSeconds: 0 });
  });

  it('takes the first source that sets a key (meta over template)', () => {
    expect(updatePolicyFromAnnotations({ [L]: '1m' }, { [L]: '2m', [W]: '0 3 * * *' })).toEqual({
      window: { schedule: '0 3 * * *', durationSeconds: 3600 },
      lockMaxSeconds: 60,
    });
  });

  it.each([
    [{ [W]: '0 2 * *' }, /grove.io\/update-window: "0 2 \* \*": expected 5 or 6 fields/],
    [{ [W]: '0 2 * * *', [D]: 'two hours' }, /update-window-duration: "two hours" is not a duration/],
    [{ [W]: '0 2 * * *', [D]: '8d' }, /longer than 7d/],
    [{ [W]: '0 2 * * *', [Z]: 'Moon/Base' }, /not a known time zone/],
    [{ [D]: '2h' }, /update-window-duration: needs grove.io\/update-window/],
    [{ [L]: 'soon' }, /update-lock-max: "soon" is not a duration/],
  ])('rejects %o', (annotations, why) => {
    let err: unknown;
    try {
      updatePolicyFromAnnotations(annotations);
    } catch (e) {
      err = e;
    }
    expect(isGroveError(err, ErrorCode.InvalidArgument)).toBe(true);
    expect((err as Error).message).toMatch(why);
  });

  it('describes a window', () => {
    expect(windowText({ schedule: '0 2 * * *', durationSeconds: 7200 })).toBe('0 2 * * * (2h)');
    expect(windowText({ schedule: '*/10 * * * * *', durationSeconds: 90, timeZone: 'UTC' })).toBe('*/10 * * * * * (90s, UTC)');
  });
});

describe('objects: the update annotations are checked where they are written', () => {
  it('refuses a bad window, naming the annotation (the Pod targets carry them: controllers-pod-status-targets.test.ts)', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { [W]: 'nightly' } },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox:1' }] } } },
    };
    const result = checkObject('Deployment', deployment);
    expect(result.ok ? [] : result.problems.map((p) => p.path.join('.'))).toEqual(['metadata.annotations.grove.io/update-window']);
  });
});

/** A schema-1 pod target (0.1's wire, still decoded: src/core/wire.ts). */
const pod = (update?: PodTarget['update']): PodTarget => ({
  name: 'web-a',
  app: 'web',
  templateHash: 'h1',
  restartPolicy: 'Always',
  hostNetwork: false,
  ...(update ? { update } : {}),
  containers: [{ name: 'main', image: 'busybox', env: [], resources: {} }],
});

describe('wire (schema 1): PodTarget.update, and NodeStatus.deferred', () => {
  const target = (p: PodTarget) => encodeMessage(makeNodeTarget({ cluster: 'c', node: 'n1', revision: 1, pods: [p], issuedAt: '2026-01-01T00:00:00Z' }));

  it('round-trips an update policy and rejects bad ones', () => {
    const update = { window: { schedule: '0 2 * * *', durationSeconds: 7200, timeZone: 'UTC' }, lockMaxSeconds: 600 };
    expect(decodeNodeTarget(target(pod(update))).pods[0]?.update).toEqual(update);
    expect(decodeNodeTarget(target(pod())).pods[0]).not.toHaveProperty('update');
    expect(() => decodeNodeTarget(target(pod({ window: { schedule: '0 2 * *', durationSeconds: 60 } })))).toThrow(/pods\[0\]\.update\.window: .*5 or 6 fields/);
    expect(() => decodeNodeTarget(target(pod({ window: { schedule: '0 2 * * *', durationSeconds: 0 } })))).toThrow(/durationSeconds: must be 1\.\./);
    expect(() => decodeNodeTarget(target(pod({ lockMaxSeconds: -1 })))).toThrow(/lockMaxSeconds/);
  });

  const status = (deferred?: unknown): Buffer =>
    encodeMessage({
      schema: 1,
      node: 'n1',
      seq: 1,
      observedRevision: 1,
      heartbeat: false,
      facts: { arch: 'x', os: 'linux', cpus: 1, memoryBytes: 1, memoryAvailableBytes: 1, diskFreeBytes: 1, kernel: 'k', ociRuntime: 'r', cgroupVersion: 2, agentVersion: 'v', labels: {} },
      pods: [],
      ...(deferred !== undefined ? { deferred } : {}),
      sentAt: '2026-01-01T00:00:00Z',
    } satisfies Omit<NodeStatus, 'deferred'> & { deferred?: unknown });

  it('round-trips deferred updates and rejects bad ones', () => {
    const d = [{ app: 'web', reason: 'update-lock' as const, since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T01:00:00.000Z', message: 'update lock held since …' }];
    expect(decodeNodeStatus(status(d)).deferred).toEqual(d);
    expect(decodeNodeStatus(status())).not.toHaveProperty('deferred');
    expect(() => decodeNodeStatus(status([{ ...d[0], reason: 'bored' }]))).toThrow(/deferred\[0\]\.reason: expected update-window or update-lock/);
    expect(() => decodeNodeStatus(status([{ ...d[0], since: 'yesterday' }]))).toThrow(/deferred\[0\]\.since: expected an ISO 8601 timestamp/);
    expect(() => decodeNodeStatus(status('no'))).toThrow(/deferred: expected an array/);
  });
});
