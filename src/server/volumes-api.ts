/**
 * Named volumes live on the nodes only: `GET /v1/volumes[?node=N]` asks each (Ready) node over
 * the `volumes` RPC, `DELETE /v1/nodes/:node/volumes/:name` removes one there (the node refuses
 * while a container mounts it). A node that does not answer is reported, not fatal, in a list.
 */
import { errorMessage } from '../core/errors.js';
import type { NodeVolume } from '../core/wire-types.js';
import type { RpcProxy } from './rpc-proxy.js';

export interface NodeVolumes {
  node: string;
  volumes: NodeVolume[];
  /** Why the node's volumes are unknown (offline, too old an agent …). */
  error?: string;
}

export async function listVolumes(rpc: RpcProxy, nodes: readonly { name: string; ready: boolean }[]): Promise<NodeVolumes[]> {
  return Promise.all(
    nodes.map(async (n): Promise<NodeVolumes> => {
      if (!n.ready) return { node: n.name, volumes: [], error: 'node is not ready' };
      try {
        return { node: n.name, volumes: await rpc.requestVolumes(n.name, { action: 'ls' }) };
      } catch (err) {
        return { node: n.name, volumes: [], error: errorMessage(err) };
      }
    }),
  );
}

export async function removeVolume(rpc: RpcProxy, node: string, name: string): Promise<{ node: string; name: string; removed: true }> {
  await rpc.requestVolumes(node, { action: 'rm', name });
  return { node, name, removed: true };
}
