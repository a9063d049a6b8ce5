import { describe, expect, it } from 'vitest';
import { allows, authorize, forbidden, ruleAllowsPath, ruleAllowsResource } from '../../src/server/auth/authorize.js';
import { requestInfoOf } from '../../src/server/auth/grove-request-info.js';
import { rulesFor, type Role } from '../../src/server/auth/roles.js';
import { isGroveError } from '../../src/core/errors.js';

const can = (role: Role, method: string, url: string): boolean => {
  const [path, query] = url.split('?');
  return allows(role, requestInfoOf(method, path!, new URLSearchParams(query)));
};

/** [method, url, admin, edit, view] */
const TABLE: [string, string, boolean, boolean, boolean][] = [
  ['GET', '/api/v1/namespaces/default/pods', true, true, true],
  ['GET', '/api/v1/pods?watch=true', true, true, true],
  ['GET', '/apis/apps/v1/namespaces/default/deployments/web', true, true, true],
  ['POST', '/apis/apps/v1/namespaces/default/deployments', true, true, false],
  ['PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', true, true, false],
  ['DELETE', '/api/v1/namespaces/default/configmaps/x', true, true, false],
  ['GET', '/api/v1/namespaces/default/secrets', true, true, false],
  ['GET', '/api/v1/namespaces/default/secrets/db', true, true, false],
  ['GET', '/api/v1/secrets?watch=1', true, true, false],
  ['GET', '/api/v1/namespaces/default/pods/web/log', true, true, true],
  ['GET', '/api/v1/namespaces/default/pods/web/exec', true, true, false],
  ['POST', '/api/v1/namespaces/default/pods/web/attach', true, true, false],
  ['GET', '/api/v1/namespaces/default/pods/web/portforward', true, true, false],
  ['POST', '/api/v1/namespaces/default/pods/web/eviction', true, true, false],
  ['GET', '/api/v1/nodes', true, true, true],
  ['PATCH', '/api/v1/nodes/pi', true, true, false],
  ['DELETE', '/api/v1/nodes/pi', true, false, false],
  ['POST', '/api/v1/nodes', true, false, false],
  ['GET', '/api/v1/events', true, true, true],
  ['GET', '/apis/metrics.k8s.io/v1beta1/pods', true, true, true],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', true, true, true],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', true, true, true],
  ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', true, true, true],
  ['GET', '/api', true, true, true],
  ['GET', '/apis/apps/v1', true, true, true],
  ['GET', '/openapi/v3/apis/apps/v1', true, true, true],
  ['GET', '/version', true, true, true],
  ['GET', '/metrics', true, false, false],
  ['POST', '/v1/apply', true, true, false],
  ['GET', '/v1/logs?pod=web', true, true, true],
  ['PATCH', '/v1/nodes/pi', true, true, false],
  ['DELETE', '/v1/nodes/pi', true, false, false],
  ['GET', '/v1/volumes', true, true, true],
  ['DELETE', '/v1/nodes/pi/volumes/data', true, true, false],
  ['GET', '/v1/tokens', true, false, false],
  ['POST', '/v1/tokens', true, false, false],
  ['POST', '/v1/admin-token/rotate', true, false, false],
  ['POST', '/v1/users', true, false, false],
  ['POST', '/v1/users/ann/certificates', true, false, false],
  ['GET', '/v1/backup', true, false, false],
  ['GET', '/v1/namespaces/default/deployments/web/rollout', true, true, true],
  ['POST', '/v1/namespaces/default/deployments/web/rollout/undo', true, true, false],
];

describe('roles', () => {
  it.each(TABLE)('%s %s: admin %s, edit %s, view %s', (method, url, admin, edit, view) => {
    expect([can('admin', method, url), can('edit', method, url), can('view', method, url)]).toEqual([admin, edit, view]);
  });

  it('view reads every kind but Secrets', () => {
    for (const plural of ['namespaces', 'nodes', 'pods', 'configmaps']) expect(can('view', 'GET', `/api/v1/${plural}`), plural).toBe(true);
    for (const plural of ['deployments', 'replicasets', 'daemonsets', 'controllerrevisions']) expect(can('view', 'GET', `/apis/apps/v1/${plural}`), plural).toBe(true);
    for (const plural of ['jobs', 'cronjobs']) expect(can('view', 'GET', `/apis/batch/v1/${plural}`), plural).toBe(true);
    expect(can('view', 'GET', '/api/v1/secrets')).toBe(false);
  });

  it('every rule is either a resource rule or a non-resource rule, as RBAC requires', () => {
    for (const role of ['admin', 'edit', 'view'] as const) {
      for (const rule of rulesFor(role)) expect((rule.resources !== undefined) !== (rule.nonResourceURLs !== undefined), JSON.stringify(rule)).toBe(true);
    }
  });
});

describe('rule matching (RBAC semantics)', () => {
  const attrs = { verb: 'get', group: 'apps', version: 'v1', resource: 'deployments', subresource: 'scale', namespace: 'a', name: 'web' };
  it('matches a subresource only by its combined name or */subresource', () => {
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }, attrs)).toBe(false);
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale'] }, attrs)).toBe(true);
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }, attrs)).toBe(true);
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, attrs)).toBe(true);
    expect(ruleAllowsResource({ verbs: ['list'], apiGroups: ['*'], resources: ['*'] }, attrs)).toBe(false);
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: [''], resources: ['*'] }, attrs)).toBe(false);
  });
  it('honours resource names', () => {
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['apps'], resources: ['*'], resourceNames: ['web'] }, attrs)).toBe(true);
    expect(ruleAllowsResource({ verbs: ['get'], apiGroups: ['apps'], resources: ['*'], resourceNames: ['db'] }, attrs)).toBe(false);
  });
  it('reads a trailing * of a non-resource URL as a prefix', () => {
    expect(ruleAllowsPath({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { verb: 'get', path: '/apis/apps/v1' })).toBe(true);
    expect(ruleAllowsPath({ verbs: ['get'], nonResourceURLs: ['/apis'] }, { verb: 'get', path: '/apis/apps' })).toBe(false);
    expect(ruleAllowsPath({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { verb: 'post', path: '/apis/apps' })).toBe(false);
  });
});

describe('the 403 as the API server words it', () => {
  const user = { username: 'ann', groups: ['system:authenticated'], role: 'view' as const, via: 'token' as const };
  it('names user, verb, resource, group and namespace', () => {
    expect(forbidden(user, requestInfoOf('POST', '/apis/apps/v1/namespaces/default/deployments')).message).toBe(
      'deployments.apps is forbidden: User "ann" cannot create resource "deployments" in API group "apps" in the namespace "default"',
    );
    expect(forbidden(user, requestInfoOf('GET', '/api/v1/namespaces/default/secrets/db')).message).toBe(
      'secrets "db" is forbidden: User "ann" cannot get resource "secrets" in API group "" in the namespace "default"',
    );
    expect(forbidden(user, requestInfoOf('DELETE', '/api/v1/nodes/pi')).message).toBe('nodes "pi" is forbidden: User "ann" cannot delete resource "nodes" in API group "" at the cluster scope');
    expect(forbidden(user, requestInfoOf('GET', '/api/v1/namespaces/d/pods/p/exec')).message).toContain('cannot create resource "pods/exec"');
    expect(forbidden(user, requestInfoOf('GET', '/metrics')).message).toBe('forbidden: User "ann" cannot get path "/metrics"');
  });
  it('authorize throws PermissionDenied and lets an allowed request through', () => {
    expect(() => authorize(user, requestInfoOf('GET', '/api/v1/pods'))).not.toThrow();
    let err: unknown;
    try {
      authorize(user, requestInfoOf('POST', '/api/v1/namespaces/default/pods'));
    } catch (e) {
      err = e;
    }
    expect(isGroveError(err, 'PERMISSION_DENIED')).toBe(true);
  });
});
