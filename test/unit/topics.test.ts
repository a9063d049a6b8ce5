import { describe, expect, it } from 'vitest';
import { allNodesTopic, parseNodeTopic, topicsFor, validateName } from '../../src/core/topics.js';
import { ErrorCode, isGroveError } from '../../src/core/errors.js';

describe('topics', () => {
  it('builds the per-node topic layout', () => {
    expect(topicsFor('default', 'pi-1')).toEqual({
      target: 'grove/v1/default/nodes/pi-1/target',
      status: 'grove/v1/default/nodes/pi-1/status',
      presence: 'grove/v1/default/nodes/pi-1/presence',
      rpcRequest: 'grove/v1/default/nodes/pi-1/rpc/req',
      rpcResponse: 'grove/v1/default/nodes/pi-1/rpc/res',
      config: 'grove/v1/default/nodes/pi-1/config',
    });
  });

  it('round-trips every kind through parseNodeTopic', () => {
    const topics = topicsFor('edge', 'n0');
    for (const [kind, topic] of Object.entries(topics)) {
      expect(parseNodeTopic(topic)).toEqual({ cluster: 'edge', node: 'n0', kind });
    }
  });

  it('rejects topics that are not node topics', () => {
    for (const t of [
      'grove/v1/default/nodes/pi-1',
      'grove/v1/default/nodes/pi-1/other',
      'grove/v1/default/nodes/pi-1/rpc/other',
      'grove/v1/default/nodes/pi-1/rpc/req/extra',
      'grove/v2/default/nodes/pi-1/status',
      'grove/v1/default/apps/pi-1/status',
      'grove/v1/default/nodes/+/status',
      'grove/v1/default/nodes/#',
      'grove/v1/Default/nodes/pi-1/status',
      '',
    ]) {
      expect(parseNodeTopic(t), t).toBeUndefined();
    }
  });

  it('builds wildcard subscriptions', () => {
    expect(allNodesTopic('default', 'status')).toBe('grove/v1/default/nodes/+/status');
    expect(allNodesTopic('default', 'rpcResponse')).toBe('grove/v1/default/nodes/+/rpc/res');
    expect(allNodesTopic('c1', 'presence')).toBe('grove/v1/c1/nodes/+/presence');
  });

  it('accepts DNS-label-like names', () => {
    for (const n of ['a', '0', 'pi-1', 'a'.repeat(63), 'x-y-z9']) expect(validateName(n, 'node')).toBe(n);
  });

  it('rejects bad names with InvalidArgument naming what', () => {
    for (const n of ['', '-a', 'a-', 'A', 'a_b', 'a/b', '+', '#', 'a+', 'a#', 'a.b', 'a'.repeat(64), ' a']) {
      let caught: unknown;
      try {
        validateName(n, 'node');
      } catch (err) {
        caught = err;
      }
      expect(isGroveError(caught, ErrorCode.InvalidArgument), JSON.stringify(n)).toBe(true);
      expect((caught as Error).message).toContain('node');
    }
    expect(() => validateName(42, 'cluster')).toThrow(/cluster/);
  });

  it('validates names when building topics', () => {
    expect(() => topicsFor('default', '+')).toThrow(/node/);
    expect(() => topicsFor('a/b', 'pi')).toThrow(/cluster/);
    expect(() => allNodesTopic('#', 'status')).toThrow(/cluster/);
  });
});
