/**
 * The self reviews kubectl asks the API server about the caller (docs/kubectl.md, "Users, roles
 * and kubeconfig"):
 *
 *   POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews   kubectl auth can-i VERB RESOURCE
 *   POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews    kubectl auth can-i --list
 *   POST /apis/authentication.k8s.io/v1/selfsubjectreviews        kubectl auth whoami
 *
 * Answered from the caller's role (src/server/auth/roles.ts) by the same matcher the router
 * authorizes with, so "yes" means the request would pass. Nothing is stored.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import { allows, forbiddenReason, type UserInfo } from '../auth/authorize.js';
import type { RequestInfo } from '../auth/request-info.js';
import { rulesFor } from '../auth/roles.js';
import { JsonResponse, type RequestContext, type Router } from '../http.js';
import { isObj, type Obj } from '../request-fields.js';
import { decodeProtobufObject, isProtobuf, OBJECT_META, type Table } from './protobuf-body.js';
import { statusErrorFormat } from './status.js';

const AUTHORIZATION = 'authorization.k8s.io';
const AUTHENTICATION = 'authentication.k8s.io';
/** Longest string field a review may carry (names, paths). */
const MAX_FIELD = 1024;

/** Discovery entries of the review resources (create only), in the shape of k8s-api/discovery.ts's DiscoveryResource. */
export const ACCESS_REVIEW_RESOURCES = Object.freeze([
  { group: AUTHORIZATION, version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', shortNames: [], namespaced: false, verbs: ['create'] },
  { group: AUTHORIZATION, version: 'v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', shortNames: [], namespaced: false, verbs: ['create'] },
  { group: AUTHENTICATION, version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', singular: 'selfsubjectreview', shortNames: [], namespaced: false, verbs: ['create'] },
]);

function invalid(field: string, message: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${field}: ${message}`, { details: { field } });
}

function text(o: Obj, key: string, field: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > MAX_FIELD) throw invalid(`${field}.${key}`, `expected a string of at most ${MAX_FIELD} characters`);
  return v;
}

/** The review object as sent, checked: apiVersion and kind as expected, spec an object. */
function review(body: unknown, kind: string, group: string): { body: Obj; spec: Obj } {
  if (!isObj(body)) throw invalid('body', `expected a ${kind} object`);
  if (body.kind !== undefined && body.kind !== kind) throw invalid('kind', `expected ${kind}`);
  if (body.apiVersion !== undefined && body.apiVersion !== `${group}/v1`) throw invalid('apiVersion', `expected ${group}/v1`);
  const spec = body.spec ?? {};
  if (!isObj(spec)) throw invalid('spec', 'expected an object');
  return { body, spec };
}

/** What a SelfSubjectAccessReview's spec asks, as request info. */
export function accessReviewRequest(spec: Obj): RequestInfo {
  const { resourceAttributes: r, nonResourceAttributes: n } = spec;
  if (isObj(r)) {
    const f = 'spec.resourceAttributes';
    return { isResourceRequest: true, verb: text(r, 'verb', f), group: text(r, 'group', f), version: text(r, 'version', f), resource: text(r, 'resource', f), subresource: text(r, 'subresource', f), namespace: text(r, 'namespace', f), name: text(r, 'name', f) };
  }
  if (isObj(n)) return { isResourceRequest: false, verb: text(n, 'verb', 'spec.nonResourceAttributes'), path: text(n, 'path', 'spec.nonResourceAttributes') };
  throw invalid('spec', 'one of resourceAttributes and nonResourceAttributes is required');
}

const strings = (...names: string[]): Table => Object.fromEntries(names.map((name, i) => [i + 1, { name, type: 'string' as const }]));

/** The reviews as kubectl's typed clients send them (field numbers of Kubernetes' generated.proto). */
const REVIEWS: Record<string, Table> = {
  SelfSubjectAccessReview: {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'spec', type: { 1: { name: 'resourceAttributes', type: strings('namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name') }, 2: { name: 'nonResourceAttributes', type: strings('path', 'verb') } } },
  },
  SelfSubjectRulesReview: { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'spec', type: strings('namespace') } },
  SelfSubjectReview: { 1: { name: 'metadata', type: OBJECT_META } },
};

/** A review kubectl sent as protobuf, as the JSON object it stands for (empty fields absent, as Go's JSON omits them). */
export function reviewFromProtobuf(body: Buffer): Obj {
  return decodeProtobufObject(body, REVIEWS);
}

/** The review in the body: JSON, or the protobuf kubectl's typed clients send. */
async function reviewBody(ctx: RequestContext): Promise<unknown> {
  return isProtobuf(ctx.req.headers['content-type']) ? reviewFromProtobuf((await ctx.rawBody()).bytes) : ctx.body();
}

function caller(ctx: RequestContext): UserInfo {
  // The router authenticated the request; a route without a user is a wiring mistake.
  if (!ctx.user) throw new GroveError(ErrorCode.Internal, 'self review without an authenticated user');
  return ctx.user;
}

function accessReview(user: UserInfo, body: unknown): unknown {
  const { body: o, spec } = review(body, 'SelfSubjectAccessReview', AUTHORIZATION);
  const asked = accessReviewRequest(spec);
  const allowed = allows(user.role, asked);
  const status = allowed ? { allowed: true, reason: `role ${user.role} allows it` } : { allowed: false, reason: `role ${user.role}: ${forbiddenReason(user.username, asked)}` };
  return { apiVersion: `${AUTHORIZATION}/v1`, kind: 'SelfSubjectAccessReview', metadata: isObj(o.metadata) ? o.metadata : {}, spec, status };
}

function rulesReview(user: UserInfo, body: unknown): unknown {
  const { spec } = review(body, 'SelfSubjectRulesReview', AUTHORIZATION);
  const rules = rulesFor(user.role);
  const list = (v: readonly string[] | undefined) => [...(v ?? [])];
  return {
    apiVersion: `${AUTHORIZATION}/v1`,
    kind: 'SelfSubjectRulesReview',
    metadata: {},
    spec: { namespace: text(spec, 'namespace', 'spec') },
    status: {
      // Roles are cluster-wide: the same rules in every namespace.
      resourceRules: rules.filter((r) => r.resources).map((r) => ({ verbs: list(r.verbs), apiGroups: list(r.apiGroups), resources: list(r.resources), ...(r.resourceNames ? { resourceNames: list(r.resourceNames) } : {}) })),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: list(r.verbs), nonResourceURLs: list(r.nonResourceURLs) })),
      incomplete: false,
    },
  };
}

function selfReview(user: UserInfo, body: unknown, now: Date): unknown {
  review(body, 'SelfSubjectReview', AUTHENTICATION);
  return {
    apiVersion: `${AUTHENTICATION}/v1`,
    kind: 'SelfSubjectReview',
    metadata: { creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
    status: { userInfo: { username: user.username, groups: [...user.groups], extra: { 'grove.io/role': [user.role] } } },
  };
}

/** Adds the three self reviews to `router` (answered 201, as the API server does; errors as Status). */
export function addAccessReviewRoutes(router: Router, now: () => Date): void {
  const post = (path: string, answer: (user: UserInfo, body: unknown) => unknown): void => {
    router.add('POST', path, async (ctx) => new JsonResponse(201, answer(caller(ctx), await reviewBody(ctx))), 'admin', statusErrorFormat);
  };
  post(`/apis/${AUTHORIZATION}/v1/selfsubjectaccessreviews`, accessReview);
  post(`/apis/${AUTHORIZATION}/v1/selfsubjectrulesreviews`, rulesReview);
  post(`/apis/${AUTHENTICATION}/v1/selfsubjectreviews`, (user, body) => selfReview(user, body, now()));
}
