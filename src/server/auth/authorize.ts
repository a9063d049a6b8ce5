/**
 * The authorizer: does a user's role allow a request (request-info.ts)? Rules match as
 * Kubernetes RBAC matches them (plugin/pkg/auth/authorizer/rbac): verb, API group, resource
 * ("pods/exec" for a subresource, "*" and "*\/scale" as wildcards), resource names, and
 * non-resource URLs with a trailing "*" as a prefix. A refusal is worded as the API server words it.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { NonResourceAttributes, RequestInfo, ResourceAttributes } from './request-info.js';
import { rulesFor, type PolicyRule, type Role } from './roles.js';

/** Who made a request, once authenticated (authenticate.ts). */
export interface UserInfo {
  username: string;
  /** Kubernetes groups: the certificate's O= entries, plus system:authenticated. */
  groups: readonly string[];
  role: Role;
  /** How the request proved it: what `grove` and the logs say; never a secret. */
  via: 'admin-token' | 'token' | 'certificate';
}

/** The admin token's user, as kubectl auth whoami shows it (k3s and kubeadm name theirs alike). */
export const ADMIN_USER = 'system:admin';
/** Every authenticated user's group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** Whoever presents the admin token. */
export function adminTokenUser(): UserInfo {
  return { username: ADMIN_USER, groups: ['system:masters', AUTHENTICATED_GROUP], role: 'admin', via: 'admin-token' };
}

function has(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`));
}

export function ruleAllowsResource(rule: PolicyRule, a: ResourceAttributes): boolean {
  if (rule.resources === undefined || !has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group) || !resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

export function ruleAllowsPath(rule: PolicyRule, a: NonResourceAttributes): boolean {
  if (rule.nonResourceURLs === undefined || !has(rule.verbs, a.verb)) return false;
  return rule.nonResourceURLs.some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
}

/** Whether `role` allows the request. */
export function allows(role: Role, info: RequestInfo): boolean {
  const rules = rulesFor(role);
  return info.isResourceRequest ? rules.some((r) => ruleAllowsResource(r, info)) : rules.some((r) => ruleAllowsPath(r, info));
}

/** `User "x" cannot create resource "deployments" in API group "apps" in the namespace "default"`. */
export function forbiddenReason(user: string, info: RequestInfo): string {
  if (!info.isResourceRequest) return `User ${JSON.stringify(user)} cannot ${info.verb} path ${JSON.stringify(info.path)}`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const where = info.namespace ? `in the namespace ${JSON.stringify(info.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user)} cannot ${info.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(info.group)} ${where}`;
}

/** The 403 of a refused request: `deployments.apps "web" is forbidden: User "x" cannot …`, as the API server answers. */
export function forbidden(user: UserInfo, info: RequestInfo): GroveError {
  const reason = forbiddenReason(user.username, info);
  let message: string;
  if (!info.isResourceRequest) message = `forbidden: ${reason}`;
  else {
    const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
    message = `${qualified}${info.name ? ` ${JSON.stringify(info.name)}` : ''} is forbidden: ${reason}`;
  }
  return new GroveError(ErrorCode.PermissionDenied, message, { details: { user: user.username, verb: info.verb } });
}

/** Throws the 403 unless the user's role allows the request. */
export function authorize(user: UserInfo, info: RequestInfo): void {
  if (!allows(user.role, info)) throw forbidden(user, info);
}
