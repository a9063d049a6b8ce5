/**
 * Decoders of what agents send and the server receives: node status, presence, rpc responses
 * (docs/protocol.md). Each message is checked by the generated validator of its schema
 * (src/core/objects/wire.ts) through the pipeline of wire-check.ts; only the server imports
 * this module, so agents never load these validators.
 */
import { isValidName } from './topics.js';
import { quoteValue } from './quote.js';
import { WireNodeStatus } from './objects/generated/wire-node-status.js';
import { WirePresence } from './objects/generated/wire-presence.js';
import { WireRpcResponse } from './objects/generated/wire-rpc-response.js';
import { FieldError, checkByteFields, firstDuplicate, rpcLabel, schemaDecoder, type Obj } from './wire-check.js';
import { MAX_PRESENCE_BYTES, MAX_RPC_BYTES, MAX_STATUS_BYTES, STREAM_LIMITS } from './wire-limits.js';
import { WIRE_SCHEMA, type NodeStatus, type Presence, type RpcResponse } from './wire-types.js';

const fromNode = (what: string, word: string) => (o: Obj) => (isValidName(o.node) ? `${what} ${word} ${o.node}` : what);

/** Init container names are unique within a pod (both lists become <pod>_<name> on the node). */
function checkInitStatusNames(status: NodeStatus): NodeStatus {
  status.pods.forEach((pod, i) => {
    const j = firstDuplicate(pod.initContainers ?? [], (c) => c.name);
    if (j >= 0) throw new FieldError(`pods[${i}].initContainers[${j}].name`, `duplicate init container name ${quoteValue(pod.initContainers![j]!.name)}`);
  });
  return status;
}

export const decodeNodeStatus = schemaDecoder<NodeStatus>({
  max: MAX_STATUS_BYTES,
  what: 'node status',
  schema: WIRE_SCHEMA,
  label: fromNode('node status', 'from'),
  validator: WireNodeStatus,
  then: checkInitStatusNames,
});

export const decodePresence = schemaDecoder<Presence>({ max: MAX_PRESENCE_BYTES, what: 'presence', schema: WIRE_SCHEMA, label: fromNode('presence', 'of'), validator: WirePresence });

export const decodeRpcResponse = schemaDecoder<RpcResponse>({
  max: MAX_RPC_BYTES,
  what: 'rpc response',
  schema: WIRE_SCHEMA,
  label: rpcLabel('rpc response'),
  validator: WireRpcResponse,
  bytes: true,
  then: (res) => {
    checkByteFields(res, ['out', 'err'], STREAM_LIMITS.chunkBytes);
    return res;
  },
});
