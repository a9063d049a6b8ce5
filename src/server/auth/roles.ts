/**
 * The three roles a Grove user has (`grove user create NAME --role admin|edit|view`), written as
 * Kubernetes RBAC PolicyRules so that the authorizer, `kubectl auth can-i` and `kubectl auth
 * can-i --list` (SelfSubjectRulesReview) read the same data:
 *
 *   admin  everything.
 *   edit   every object and subresource (exec, logs, scale, eviction…), nodes read and patched
 *          (labels, cordon, drain), but not node identity (creating or deleting a Node: a
 *          deletion revokes its credentials) and not Grove's users, join tokens, admin token
 *          or backups (a backup holds every credential hash).
 *   view   get, list and watch of everything but Secrets (not even their names: as Kubernetes'
 *          view role, since a list carries the data) and Grove's users, tokens and backups;
 *          logs yes, exec, attach and port-forward no, writes no.
 *
 * Every authenticated user may also ask who it is and what it may do (the self reviews) and
 * read discovery, /version and OpenAPI, as Kubernetes' system:basic-user and system:discovery allow.
 * Pure data; Kubernetes RBAC has allow rules only, so "all but" is spelled out.
 */
import { ALL_KINDS } from '../../core/objects/kinds.js';
import { GROVE_GROUP } from './grove-request-info.js';

export const ROLES = ['admin', 'edit', 'view'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** A Kubernetes rbac/v1 PolicyRule: either resource rules (apiGroups, resources) or nonResourceURLs. */
export interface PolicyRule {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  resources?: readonly string[];
  resourceNames?: readonly string[];
  nonResourceURLs?: readonly string[];
}

const READ = ['get', 'list', 'watch'] as const;
const ALL = ['*'] as const;

/**
 * API groups served beside the stored kinds' (the self reviews are granted on their own):
 * events.k8s.io (events), metrics.k8s.io (kubectl top), policy (pods/eviction's body).
 */
const SERVED_GROUPS = ['events.k8s.io', 'metrics.k8s.io', 'policy'] as const;

/** Every group with Kubernetes objects except the core one, which needs resource by resource rules. */
function namedGroups(): string[] {
  return [...new Set([...ALL_KINDS.map((k) => k.group).filter((g) => g !== ''), ...SERVED_GROUPS])].sort();
}

function corePlurals(except: readonly string[]): string[] {
  return ALL_KINDS.filter((k) => k.group === '' && !except.includes(k.plural)).map((k) => k.plural);
}

/** Subresources of core kinds the roles name (they are matched as "pods/exec", never by the parent alone). */
const POD_STREAMS = ['pods/exec', 'pods/attach', 'pods/portforward'];
const CORE_READ_SUBRESOURCES = ['pods/log', 'pods/status', 'nodes/status', 'namespaces/status'];

/** What every authenticated user may do, whatever its role. */
export const EVERY_USER_RULES: readonly PolicyRule[] = Object.freeze([
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*', '/version', '/version/'] },
]);

function roleRules(role: Role): PolicyRule[] {
  switch (role) {
    case 'admin':
      return [
        { verbs: ALL, apiGroups: ALL, resources: ALL },
        { verbs: ALL, nonResourceURLs: ['*'] },
      ];
    case 'edit':
      return [
        { verbs: ALL, apiGroups: namedGroups(), resources: ALL },
        { verbs: ALL, apiGroups: [''], resources: [...corePlurals(['nodes']), 'events', ...CORE_READ_SUBRESOURCES.filter((r) => !r.startsWith('nodes/')), ...POD_STREAMS, 'pods/eviction'] },
        { verbs: ['get', 'list', 'watch', 'patch', 'update'], apiGroups: [''], resources: ['nodes', 'nodes/status'] },
        { verbs: ALL, apiGroups: [GROVE_GROUP], resources: ['applies', 'volumes'] },
      ];
    case 'view':
      return [
        { verbs: READ, apiGroups: namedGroups(), resources: ALL },
        { verbs: READ, apiGroups: [''], resources: [...corePlurals(['secrets']), 'events', ...CORE_READ_SUBRESOURCES] },
        { verbs: ['list'], apiGroups: [GROVE_GROUP], resources: ['volumes'] },
      ];
  }
}

/** Constant data, built once: the authorizer reads it on every request. */
const RULES: Readonly<Record<Role, readonly PolicyRule[]>> = Object.freeze({
  admin: Object.freeze([...roleRules('admin'), ...EVERY_USER_RULES]),
  edit: Object.freeze([...roleRules('edit'), ...EVERY_USER_RULES]),
  view: Object.freeze([...roleRules('view'), ...EVERY_USER_RULES]),
});

/** The rules of a role, the ones every user has included. */
export function rulesFor(role: Role): readonly PolicyRule[] {
  return RULES[role];
}
