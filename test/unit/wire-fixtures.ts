import { ErrorCode, isGroveError } from '../../src/core/errors.js';
import { decodeNodeTarget, encodeMessage, makeNodeTarget } from '../../src/core/wire.js';
import type { NodeTarget, PodTarget } from '../../src/core/wire-types.js';

/** Pod web-1 with one container "c" (busybox), plus `container` and `pod` fields (unchecked). */
export function onePod(container: Record<string, unknown> = {}, pod: Partial<PodTarget> = {}): PodTarget {
  return {
    name: 'web-1',
    app: 'web',
    templateHash: 'h',
    restartPolicy: 'Always',
    hostNetwork: false,
    containers: [{ name: 'c', image: 'busybox', env: [], resources: {}, ...container }],
    ...pod,
  };
}

/** A node target holding `pods`, as the server would publish it. */
export const targetWith = (pods: PodTarget[]): NodeTarget => makeNodeTarget({ cluster: 'c', node: 'n', revision: 1, pods, issuedAt: '2025-01-01T00:00:00Z' });

/** The WireInvalid message an agent's decoder gives for `target` (fails the test if it decodes). */
export function wireRejection(target: NodeTarget): string {
  try {
    decodeNodeTarget(encodeMessage(target));
  } catch (err) {
    if (isGroveError(err, ErrorCode.WireInvalid)) return err.message;
    throw err;
  }
  throw new Error('expected a WireInvalid error');
}
