/**
 * Which schemas become which generated validator module (generate.ts reads this; nothing else
 * should). Split so that a process loads only what it decodes: the agent the target, rpc
 * request and config modules, the server status, presence and rpc response, the client and
 * the server the objects module.
 */
import type { TSchema } from '@sinclair/typebox';
import { KIND_TABLE, type KindName, type KindSchemas } from './kind-table.js';
import { PodSpec } from './pod.js';
import { WireConfigBundle, WireConfigMessage, WireNodeStatus, WireNodeTarget, WirePresence, WireRpcRequest, WireRpcResponse } from './wire.js';
import { SHARED_SCHEMAS } from './shared-schemas.js';
import { WireNetworkCluster, WireNetworkService } from './wire-network.js';
import { MANIFEST_SCHEMA_ID, manifestSchema } from '../manifests/schema.js';

export { SHARED_SCHEMAS };

/** The kinds' schemas, by kind name: what `validate(kind, value)` checks. */
export const KIND_SCHEMAS = Object.fromEntries(Object.entries(KIND_TABLE).map(([name, row]) => [name, row.schema])) as KindSchemas;

export type { KindName };

export interface ValidatorModule {
  /** File under src/core/objects/generated/, without ".ts". */
  file: string;
  /**
   * Wire modules decode what peers send: objects stay open (unknown fields are removed, not
   * refused, so newer peers interoperate), fields Grove rejects by name in objects are dropped
   * the same way, and the first error stops validation (one message, the cheapest check).
   * Object modules report every error (the client lists all problems of a file).
   */
  wire: boolean;
  /** Exported validator name → schema. */
  exports: Readonly<Record<string, TSchema>>;
  /**
   * Plain JSON Schema documents (with their own `$id`) whose definitions `refs` export by `$ref`:
   * the compose file schema of src/core/manifests, which is not written with TypeBox.
   */
  documents?: readonly Readonly<Record<string, unknown>>[];
  /** Exported validator name → `$ref` into `documents`. */
  refs?: Readonly<Record<string, string>>;
}

export const VALIDATOR_MODULES: readonly ValidatorModule[] = [
  { file: 'objects', wire: false, exports: { ...KIND_SCHEMAS, PodSpec } },
  { file: 'wire-node-target', wire: true, exports: { WireNodeTarget } },
  { file: 'wire-node-status', wire: true, exports: { WireNodeStatus } },
  { file: 'wire-presence', wire: true, exports: { WirePresence } },
  { file: 'wire-rpc-request', wire: true, exports: { WireRpcRequest } },
  { file: 'wire-rpc-response', wire: true, exports: { WireRpcResponse } },
  { file: 'wire-config', wire: true, exports: { WireConfigMessage, WireConfigBundle } },
  // The agent's NetworkSync: the cluster-wide network view (issue 15).
  { file: 'wire-network', wire: true, exports: { WireNetworkCluster, WireNetworkService } },
  // The client's compose files (src/core/manifests/compose-objects.ts): precompiled like the rest.
  {
    file: 'manifest-compose',
    wire: false,
    exports: {},
    documents: [manifestSchema()],
    refs: { ComposeFile: `${MANIFEST_SCHEMA_ID}#/definitions/ComposeFile`, ComposeService: `${MANIFEST_SCHEMA_ID}#/definitions/ComposeService` },
  },
];
