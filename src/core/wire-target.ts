/**
 * The node target, schema 2 (docs/protocol.md): what a node receives is derived from the Pods
 * bound to it, each carrying the Pod's own PodSpec. Built by the server with `makeNodeTarget2`,
 * decoded by the agent with `decodeNodeTarget2`, which checks the generated validator of the
 * schema (defaults applied, unknown fields dropped), the checksum over the pods as sent, and the
 * pod rules a schema cannot say (src/core/objects/pod-rules.ts), so an agent runs nothing a
 * server would have refused.
 *
 * An unchanged pod encodes byte-identically (canonical CBOR for the checksum, and the server
 * builds pods from stored, already-defaulted objects), so nothing restarts spuriously. An agent
 * that speaks only schema 1 refuses a schema-2 target with a log line and keeps running its last
 * target: upgrade the server first, then the agents.
 */
import { pathText } from './objects/explain.js';
import { WireNodeTarget as NodeTargetValidator } from './objects/generated/wire-node-target.js';
import { podSpecProblems } from './objects/pod-rules.js';
import type { WireNodeTarget, WirePodTarget } from './objects/wire.js';
import { TARGET_SCHEMA } from './wire-types.js';
import { isValidName } from './topics.js';
import { checkTargetEnvelope, checkWith, decodeWith, FieldError, firstDuplicate, type CompiledValidator, type Obj } from './wire-check.js';
import { podsChecksum } from './wire-codec.js';
import { MAX_TARGET_BYTES } from './wire-limits.js';

export { TARGET_SCHEMA };
export type { WireNodeTarget, WirePodTarget };

export interface NodeTargetInput2 {
  cluster: string;
  node: string;
  /** The store revision at which the node's pods last changed: only moves forward. */
  revision: number;
  pods: WirePodTarget[];
  issuedAt: string;
}

export function makeNodeTarget2({ cluster, node, revision, pods, issuedAt }: NodeTargetInput2): WireNodeTarget {
  checkTargetEnvelope(cluster, node, revision);
  return { schema: TARGET_SCHEMA, cluster, node, revision, checksum: podsChecksum(pods), pods, issuedAt };
}

/** Pod rules, and each pod once (namespace and name identify a pod on its node). */
function checkPods(target: WireNodeTarget): WireNodeTarget {
  target.pods.forEach((pod, i) => {
    const [problem] = podSpecProblems(pod.spec);
    if (problem) throw new FieldError(pathText([`pods`, i, 'spec', ...problem.path]), problem.reason);
  });
  const twice = firstDuplicate(target.pods, (p) => `${p.namespace}/${p.name}`);
  if (twice >= 0) throw new FieldError(`pods[${twice}]`, `pod ${target.pods[twice]!.namespace}/${target.pods[twice]!.name} appears twice`);
  return target;
}

export function decodeNodeTarget2(buf: Uint8Array): WireNodeTarget {
  return decodeWith(buf, {
    max: MAX_TARGET_BYTES,
    what: 'node target',
    schema: TARGET_SCHEMA,
    label: (o: Obj) => (isValidName(o.node) ? `node target for ${o.node}` : 'node target'),
    read: (o) => {
      const target = checkWith<WireNodeTarget>(NodeTargetValidator as CompiledValidator, o);
      // Over the pods as sent: fields this build drops still belong to what the server signed off.
      const actual = podsChecksum(o.pods as unknown[]);
      if (actual !== target.checksum) throw new FieldError('checksum', `mismatch: payload hashes to ${actual}`);
      return checkPods(target);
    },
  });
}
