/**
 * PURE: the 0.1 records that are not workloads → objects: nodes (the credential hash moves to
 * its own record, never in the Node object), ConfigMaps and Secrets (into namespace `default`;
 * Secret values become base64, as Kubernetes keeps them).
 */
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import type { KindObject } from '../../core/objects/validate.js';
import { patchedNode } from '../objects/node-object.js';
import type { LegacyConfigMap, LegacyMeta, LegacyNode, LegacySecret } from './legacy-model.js';
import type { MigrationContext } from './workloads.js';

/** What grove/nodecreds/<node> holds: the node's MQTT credential hash and when it was issued. */
export interface NodeCredentialRecord {
  credentialHash: string;
  joinedAt: string;
}

function objectMeta(m: LegacyMeta, ctx: MigrationContext, namespace: string | undefined) {
  return {
    name: m.name,
    ...(namespace !== undefined ? { namespace } : {}),
    uid: ctx.newUid(),
    creationTimestamp: m.createdAt ?? ctx.now.toISOString(),
    ...(Object.keys(m.labels ?? {}).length > 0 ? { labels: { ...m.labels } } : {}),
    ...(Object.keys(m.annotations ?? {}).length > 0 ? { annotations: { ...m.annotations } } : {}),
  };
}

/**
 * The Node of a 0.1 node record. Its labels are the ones set through the API (at join or `grove
 * node label`), so they are written as such (node-object.ts: listed in grove.io/api-labels, with
 * kubernetes.io/hostname): the node's first report then adds what it says of itself without
 * dropping them. 0.1 kept the self-reported labels in memory only; until that first report the
 * controllers take them as unknown (scheduling/placement.ts keepsSelector).
 */
export function migrateNode(n: LegacyNode, ctx: MigrationContext): { node: KindObject<'Node'>; credential: NodeCredentialRecord } {
  const { labels: _labels, ...meta } = objectMeta(n.meta, ctx, undefined);
  const bare: KindObject<'Node'> = { apiVersion: 'v1', kind: 'Node', metadata: { ...meta, creationTimestamp: n.meta.createdAt ?? n.joinedAt } };
  const labelled = patchedNode(bare, { ...n.meta.labels }, n.cordoned);
  const node: KindObject<'Node'> = { ...labelled, ...(n.cordoned ? { spec: { unschedulable: true } } : {}) };
  if (!n.cordoned) delete node.spec;
  // 0.1 wrote readiness on transitions only; a node never seen Ready has no condition yet.
  if (n.ready !== undefined) {
    const at = n.lastTransitionAt ?? n.joinedAt;
    node.status = {
      conditions: [
        n.ready
          ? { type: 'Ready', status: 'True', reason: 'GroveAgentReady', message: 'the Grove agent is posting ready status', lastTransitionTime: at, lastHeartbeatTime: at }
          : { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'the Grove agent stopped posting node status', lastTransitionTime: at, lastHeartbeatTime: at },
      ],
    };
  }
  return { node, credential: { credentialHash: n.credentialHash, joinedAt: n.joinedAt } };
}

export function migrateConfigMap(c: LegacyConfigMap, ctx: MigrationContext): KindObject<'ConfigMap'> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(c.meta, ctx, DEFAULT_NAMESPACE),
    ...(Object.keys(c.data ?? {}).length > 0 ? { data: { ...c.data } } : {}),
    ...(c.immutable ? { immutable: true } : {}),
  };
}

export function migrateSecret(s: LegacySecret, ctx: MigrationContext): KindObject<'Secret'> {
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(s.meta, ctx, DEFAULT_NAMESPACE),
    type: (s.type ?? 'Opaque') as KindObject<'Secret'>['type'],
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(s.immutable ? { immutable: true } : {}),
  };
}
