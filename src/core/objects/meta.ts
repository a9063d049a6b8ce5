/**
 * The metadata every object carries (Kubernetes' ObjectMeta, TypeMeta, ListMeta), and the small
 * shapes many kinds share: owner references, label selectors, conditions, object references.
 *
 * What the server sets (uid, resourceVersion, generation, creationTimestamp, deletionTimestamp)
 * is accepted in input, so that `grove get -o yaml` output applies back unchanged; the server
 * decides what it keeps (the API's business, not the schema's).
 */
import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';
import {
  closed,
  count,
  dnsLabel,
  dnsSubdomain,
  LABEL_KEY,
  LABEL_VALUE,
  mergeList,
  nullableTimestamp,
  setList,
  pattern,
  refTo,
  stringEnum,
  stringMap,
  timestamp,
  unsupported,
  unsupportedFields,
} from './kit.js';
import { LABEL_KEY_MESSAGE, LABEL_VALUE_MESSAGE } from './names.js';
import { SELECTOR_OPERATORS } from '../label-selector.js';

/** Label (and annotation) keys: `[prefix/]name`, as Kubernetes validates them. */
export const LabelKey = pattern(LABEL_KEY, LABEL_KEY_MESSAGE, {
  maxLength: 317,
});

export const Labels = stringMap(
  pattern(LABEL_VALUE, LABEL_VALUE_MESSAGE, { maxLength: 63 }),
  { keys: LabelKey, maxProperties: 1000, $id: 'Labels' },
);
export type Labels = Static<typeof Labels>;

/** Kubernetes caps all annotations of an object at 256 KiB together; one value at 64 KiB here. */
export const Annotations = stringMap(Type.String({ maxLength: 64 * 1024 }), { keys: LabelKey, maxProperties: 1000, $id: 'Annotations' });
export type Annotations = Static<typeof Annotations>;

export const OwnerReference = closed({
  apiVersion: Type.String({ minLength: 1, maxLength: 253 }),
  kind: Type.String({ minLength: 1, maxLength: 63 }),
  name: dnsSubdomain(),
  uid: Type.String({ minLength: 1, maxLength: 128 }),
  /** The managing controller (at most one owner has it). */
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});
export type OwnerReference = Static<typeof OwnerReference>;

const SERVER_SET = 'set by the API server: remove it';

/**
 * The finalizers Grove knows, both set by the server on a DELETE (docs/kubectl.md "Writing"):
 * `foregroundDeletion` holds an object until its dependents are gone, `orphan` while they are
 * released. Others would hold an object for ever, since nothing here would remove them.
 */
export const FINALIZERS = ['foregroundDeletion', 'orphan'] as const;
export type Finalizer = (typeof FINALIZERS)[number];

/**
 * Who set which fields (server-side apply, docs/kubectl.md "Writing"): one entry per manager
 * and operation; `fieldsV1` is Kubernetes' FieldsV1 set ("f:spec": {"f:replicas": {}}), open by
 * nature, bounded by the object size limit.
 */
export const ManagedFieldsEntry = closed({
  manager: Type.Optional(Type.String({ maxLength: 128 })),
  operation: Type.Optional(stringEnum(['Apply', 'Update'])),
  apiVersion: Type.Optional(Type.String({ maxLength: 253 })),
  time: Type.Optional(nullableTimestamp()),
  fieldsType: Type.Optional(Type.Literal('FieldsV1')),
  fieldsV1: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object' })),
  subresource: Type.Optional(Type.String({ maxLength: 64 })),
});
export type ManagedFieldsEntry = Static<typeof ManagedFieldsEntry>;

/** Digits only: a store revision, as Kubernetes writes resourceVersion (a string). */
export const ResourceVersion = pattern('^[0-9]{1,20}$', 'must be a resource version (digits)');

function objectMeta(options: SchemaOptions) {
  return closed({
    name: dnsSubdomain(),
    /** Absent = "default" for namespaced kinds; never set on cluster-scoped ones. */
    namespace: Type.Optional(dnsLabel()),
    uid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    resourceVersion: Type.Optional(ResourceVersion),
    generation: Type.Optional(count()),
    // `kubectl create --dry-run=client -o yaml` writes `creationTimestamp: null`.
    creationTimestamp: Type.Optional(nullableTimestamp()),
    deletionTimestamp: Type.Optional(timestamp()),
    deletionGracePeriodSeconds: Type.Optional(count()),
    labels: Type.Optional(refTo(Labels)),
    annotations: Type.Optional(refTo(Annotations)),
    ownerReferences: Type.Optional(Type.Array(OwnerReference, { maxItems: 16, ...mergeList('uid') })),
    finalizers: Type.Optional(Type.Array(stringEnum(FINALIZERS, { errorMessage: `Grove sets finalizers itself (${FINALIZERS.join(', ')}): others are not supported` }), { maxItems: FINALIZERS.length, ...setList() })),
    managedFields: Type.Optional(Type.Array(ManagedFieldsEntry, { maxItems: 64 })),
    ...unsupportedFields(['generateName']),
    ...unsupportedFields(['selfLink'], SERVER_SET),
  }, options);
}

/** Metadata of most objects: the name is a DNS subdomain. */
export const ObjectMeta = objectMeta({ $id: 'ObjectMeta' });
export type ObjectMeta = Static<typeof ObjectMeta>;

/**
 * ObjectMeta whose name is at most `maxLength` long: workloads keep to 63 because pod names
 * derive from theirs, CronJobs to 52 because their Jobs are named <name>-<time>.
 */
export function metaWithShortName(maxLength: number) {
  return objectMetaWithName(Type.String({ maxLength }));
}

/** ObjectMeta whose name must also match `name` (Namespaces and Nodes: a DNS label). */
export function objectMetaWithName(name: TSchema) {
  return Type.Intersect([refTo(ObjectMeta), Type.Object({ name })]);
}

/** A pod template's metadata: labels and annotations only (Kubernetes allows more; Grove uses these). */
export const TemplateMeta = closed(
  {
    labels: Type.Optional(refTo(Labels)),
    annotations: Type.Optional(refTo(Annotations)),
    creationTimestamp: Type.Optional(nullableTimestamp()),
  },
  { $id: 'TemplateMeta' },
);
export type TemplateMeta = Static<typeof TemplateMeta>;

/** The metadata of a List (GET of a collection). */
export const ListMeta = closed({
  resourceVersion: Type.Optional(ResourceVersion),
  continue: Type.Optional(Type.String({ maxLength: 1024 })),
  remainingItemCount: Type.Optional(count()),
});
export type ListMeta = Static<typeof ListMeta>;

/** `apiVersion` and `kind` of one kind, as constants. */
export function typeMeta<A extends string, K extends string>(apiVersion: A, kind: K) {
  return {
    apiVersion: Type.Literal(apiVersion, { errorMessage: `must be ${apiVersion}` }),
    kind: Type.Literal(kind),
  };
}

/** A List of objects (`items`), as the API returns a collection. */
export function listOf<T extends TSchema>(apiVersion: string, kind: string, item: T) {
  return closed({ ...typeMeta(apiVersion, kind), metadata: Type.Optional(ListMeta), items: Type.Array(item) });
}

const selectorValues = () => Type.Array(pattern(LABEL_VALUE, LABEL_VALUE_MESSAGE, { maxLength: 63 }), { maxItems: 64 });

/**
 * One matchExpressions entry: key, operator and values. Which operators take values is a rule
 * (core/label-selector.ts expressionProblem), checked with the object's other rules.
 */
export function selectorRequirement<const O extends readonly string[]>(operators: O) {
  return closed({
    key: LabelKey,
    operator: stringEnum(operators, { errorMessage: `expected ${operators.join(', ')}` }),
    values: Type.Optional(selectorValues()),
  });
}

/**
 * matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), evaluated by
 * core/label-selector.ts. Empty selects everything (an affinity term's); workloads must select
 * something (rules.ts).
 */
export const LabelSelector = closed(
  {
    matchLabels: Type.Optional(refTo(Labels)),
    matchExpressions: Type.Optional(Type.Array(selectorRequirement(SELECTOR_OPERATORS), { maxItems: 32 })),
  },
  { $id: 'LabelSelector' },
);
export type LabelSelector = Static<typeof LabelSelector>;

export const ConditionStatus = stringEnum(['True', 'False', 'Unknown']);

/**
 * A status condition. Kinds differ in which times they carry (Pod and Job: lastProbeTime,
 * Deployment: lastUpdateTime, Node: lastHeartbeatTime); one shape with all of them optional.
 */
export const Condition = closed(
  {
    type: Type.String({ minLength: 1, maxLength: 316 }),
    status: ConditionStatus,
    observedGeneration: Type.Optional(count()),
    lastProbeTime: Type.Optional(nullableTimestamp()),
    lastUpdateTime: Type.Optional(timestamp()),
    lastHeartbeatTime: Type.Optional(timestamp()),
    lastTransitionTime: Type.Optional(timestamp()),
    reason: Type.Optional(Type.String({ maxLength: 1024 })),
    message: Type.Optional(Type.String({ maxLength: 32 * 1024 })),
  },
  { $id: 'Condition' },
);
export type Condition = Static<typeof Condition>;

export const Conditions = Type.Array(refTo(Condition), { maxItems: 32, ...mergeList('type') });

/** A reference to one object (CronJob status.active lists its running Jobs this way). */
export const ObjectReference = closed({
  apiVersion: Type.Optional(Type.String({ maxLength: 253 })),
  kind: Type.Optional(Type.String({ maxLength: 63 })),
  namespace: Type.Optional(dnsLabel()),
  name: Type.Optional(dnsSubdomain()),
  uid: Type.Optional(Type.String({ maxLength: 128 })),
  resourceVersion: Type.Optional(ResourceVersion),
});
export type ObjectReference = Static<typeof ObjectReference>;
