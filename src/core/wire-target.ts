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
import { ErrorCode, GroveError, isGroveError } from './errors.js';
import { pathText } from './objects/explain.js';
import { WireNodeTarget as NodeTargetValidator } from './objects/generated/wire-node-target.js';
import { podSpecProblems } from './objects/pod-rules.js';
import type { WireNodeTarget, WirePodTarget } from './objects/wire.js';
import { TARGET_SCHEMA, WIRE_SCHEMA, type NodeTarget } from './wire-types.js';
import { decodeNodeTarget } from './wire.js';
import { podFromSchema1 } from './wire-target-schema1.js';
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
  /** The server publishes the cluster network view: the agent waits for it before starting pods. */
  networkView?: boolean;
}

export function makeNodeTarget2({ cluster, node, revision, pods, issuedAt, networkView }: NodeTargetInput2): WireNodeTarget {
  checkTargetEnvelope(cluster, node, revision);
  return { schema: TARGET_SCHEMA, cluster, node, revision, checksum: podsChecksum(pods), pods, issuedAt, ...(networkView ? { networkView } : {}) };
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

/**
 * A schema-1 target (decoded by the 0.1 decoder, wire.ts) as the schema-2 target it stands for
 * (wire-target-schema1.ts): checked and defaulted by the schema-2 validator and pod rules like
 * any target, its checksum computed over the converted pods. One default is taken back: a
 * schema-1 pod without terminationGracePeriodSeconds stops with the agent's own default (as
 * 0.1 did), not Kubernetes' 30 s. The agent therefore stores a schema-1 target as it came and
 * converts it again on every load (decodeTargetMessage), always to the same pods.
 */
export function targetFromSchema1(t: NodeTarget): WireNodeTarget {
  const label = `node target for ${t.node}`;
  try {
    const converted = { schema: TARGET_SCHEMA, cluster: t.cluster, node: t.node, revision: t.revision, checksum: '0'.repeat(64), pods: t.pods.map(podFromSchema1), issuedAt: t.issuedAt };
    const target = checkWith<WireNodeTarget>(NodeTargetValidator as CompiledValidator, converted);
    t.pods.forEach((p, i) => {
      if (p.terminationGracePeriodSeconds === undefined) delete target.pods[i]!.spec.terminationGracePeriodSeconds;
    });
    target.checksum = podsChecksum(target.pods);
    return checkPods(target);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    throw new GroveError(ErrorCode.WireInvalid, `${label}: schema 1 converted to 2: ${err.path}: ${err.reason}`, {
      cause: err,
      details: { message: 'node target', path: err.path, reason: err.reason },
    });
  }
}

export interface DecodedTarget {
  /** What the agent runs: schema 2. */
  target: WireNodeTarget;
  /** What it keeps in its store: the schema-2 target, or a schema-1 target as decoded (converted on load). */
  stored: WireNodeTarget | NodeTarget;
}

/**
 * What the agent decodes, from the wire and from its store: a schema-2 target, or a schema-1
 * target converted to schema 2 (a server not yet upgraded, a target stored by a 0.1 agent).
 */
export function decodeTargetMessage(buf: Uint8Array): DecodedTarget {
  try {
    const target = decodeNodeTarget2(buf);
    return { target, stored: target };
  } catch (err) {
    if (!isGroveError(err, ErrorCode.WireInvalid) || err.details.schema !== WIRE_SCHEMA) throw err;
  }
  const legacy = decodeNodeTarget(buf);
  return { target: targetFromSchema1(legacy), stored: legacy };
}

export const decodeAnyNodeTarget = (buf: Uint8Array): WireNodeTarget => decodeTargetMessage(buf).target;
