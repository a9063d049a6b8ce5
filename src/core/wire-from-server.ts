/**
 * Decoders of what the server sends and agents receive, besides the target (wire-target.ts,
 * wire.ts) and config bundles (wire-config.ts): rpc requests. Checked by the generated validator
 * of its schema (src/core/objects/wire.ts); agents import this module, never the server's.
 */
import { WireRpcRequest } from './objects/generated/wire-rpc-request.js';
import { checkByteFields, rpcLabel, schemaDecoder, type Obj } from './wire-check.js';
import { MAX_RPC_BYTES, STREAM_LIMITS, WIRE_LIMITS } from './wire-limits.js';
import { WIRE_SCHEMA, type RpcRequest } from './wire-types.js';

export const decodeRpcRequest = schemaDecoder<RpcRequest>({
  max: MAX_RPC_BYTES,
  what: 'rpc request',
  schema: WIRE_SCHEMA,
  label: rpcLabel('rpc request'),
  validator: WireRpcRequest,
  bytes: true,
  then: (req) => {
    if (req.method === 'stream') checkByteFields(req.params, ['input'], STREAM_LIMITS.chunkBytes, 'params.');
    return req;
  },
});
