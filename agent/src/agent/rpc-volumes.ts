/**
 * The `volumes` RPC: the node's named volumes for `grove volume ls`, and `grove volume rm`
 * (refused while a container mounts it). One response chunk.
 */
import { errorMessage, isGroveError } from '../../../src/core/errors.js';
import { WIRE_LIMITS } from '../../../src/core/wire.js';
import { WIRE_SCHEMA, type RpcResponse, type VolumesRpcRequest } from '../../../src/core/wire-types.js';
import type { NodeRuntime } from './node-runtime.js';

export interface VolumesRpcDeps {
  runtime: NodeRuntime;
  send: (response: RpcResponse) => Promise<void>;
}

export async function serveVolumes(req: VolumesRpcRequest, deps: VolumesRpcDeps): Promise<void> {
  const reply = (extra: Partial<RpcResponse>): Promise<void> => deps.send({ schema: WIRE_SCHEMA, id: req.id, seq: 0, done: true, ...extra });
  const { runtime } = deps;
  try {
    if (!runtime.listVolumes || !runtime.removeVolume) {
      await reply({ error: { code: 'INVALID_ARGUMENT', message: 'this node keeps no named volumes' } });
      return;
    }
    if (req.params.action === 'rm') {
      await runtime.removeVolume(req.params.name ?? '');
      await reply({ volumes: [] });
      return;
    }
    const volumes = await runtime.listVolumes();
    await reply({ volumes: volumes.map((v) => ({ name: v.name, createdAt: v.createdAt, usedBy: v.usedBy })) });
  } catch (err) {
    const code = isGroveError(err) ? err.code : 'INTERNAL';
    await reply({ error: { code, message: errorMessage(err).slice(0, WIRE_LIMITS.message) } }).catch(() => undefined);
  }
}
