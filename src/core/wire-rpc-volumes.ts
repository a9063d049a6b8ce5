/**
 * The `volumes` RPC off the wire (wire.ts calls these): the request's action and volume name,
 * and the listing in the response. Same rules as the rest of the codec.
 */
import { WIRE_SCHEMA, type NodeVolume, type VolumesRpcRequest } from './wire-types.js';
import { at, list, obj, str, type FailField, type Obj } from './wire-probes.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_VOLUMES = 1000;
const MAX_USERS = 256;

function volumeName(v: unknown, p: string, fail: FailField): string {
  const s = str(v, p, fail, 63, 1);
  return NAME.test(s) ? s : fail(p, 'expected a volume name (a DNS label)');
}

export function decodeVolumesRpcRequest(o: Obj, id: string, fail: FailField): VolumesRpcRequest {
  const p = obj(o.params, 'params', fail);
  if (p.action !== 'ls' && p.action !== 'rm') return fail('params.action', 'expected ls or rm');
  if (p.action === 'rm') return { schema: WIRE_SCHEMA, id, method: 'volumes', params: { action: 'rm', name: volumeName(p.name, 'params.name', fail) } };
  return { schema: WIRE_SCHEMA, id, method: 'volumes', params: { action: 'ls' } };
}

export function decodeNodeVolumes(v: unknown, path: string, fail: FailField): NodeVolume[] {
  return list(v, path, fail, MAX_VOLUMES, (x, p) => {
    const o = obj(x, p, fail);
    return {
      name: volumeName(o.name, at(p, 'name'), fail),
      createdAt: str(o.createdAt, at(p, 'createdAt'), fail, 64),
      usedBy: list(o.usedBy, at(p, 'usedBy'), fail, MAX_USERS, (u, up) => str(u, up, fail, 253, 1)),
    };
  });
}
