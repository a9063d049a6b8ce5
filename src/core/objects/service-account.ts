/**
 * v1 ServiceAccount: accepted and listed so that manifests naming one apply as they are, and
 * pods' serviceAccountName reads back through the downward API. Grove issues no API tokens to
 * pods (docs/manifests.md#service-accounts): `secrets` is kept as written; imagePullSecrets is refused until pulls use it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, dnsSubdomain, mergeList, refTo, unsupported } from './kit.js';
import { ObjectMeta, typeMeta } from './meta.js';

export const ServiceAccount = closed(
  {
    ...typeMeta('v1', 'ServiceAccount'),
    metadata: refTo(ObjectMeta),
    secrets: Type.Optional(Type.Array(closed({ name: dnsSubdomain(), namespace: Type.Optional(Type.String({ maxLength: 63 })), kind: Type.Optional(Type.String({ maxLength: 63 })), apiVersion: Type.Optional(Type.String({ maxLength: 63 })), uid: Type.Optional(Type.String({ maxLength: 128 })) }), { maxItems: 64, ...mergeList('name') })),
    imagePullSecrets: Type.Optional(unsupported('not supported yet: give the node its registry credentials in <data-dir>/registries.json (docs/images.md)')),
    automountServiceAccountToken: Type.Optional(Type.Boolean()),
  },
  { $id: 'ServiceAccount' },
);
export type ServiceAccount = Static<typeof ServiceAccount>;
