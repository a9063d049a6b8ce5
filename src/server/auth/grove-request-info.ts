/**
 * Grove's own /v1 paths as the authorizer sees them: each maps to the verb and resource of the
 * Kubernetes API that does the same thing (PATCH /v1/nodes/x is `patch nodes`, GET /v1/logs is
 * `get pods/log`, a rollout undo is `patch deployments`), and what has no Kubernetes twin
 * (join tokens, users, the admin token, backups, volumes, the object apply) to a resource of
 * the `grove.io` group. Pure; the public /v1 paths (join, ca, config-key) never get here.
 */
import { requestInfo, type RequestInfo } from './request-info.js';

/** The API group of the resources that exist only in Grove's /v1 API. */
export const GROVE_GROUP = 'grove.io';

function resource(verb: string, group: string, resource: string, extra: { subresource?: string; namespace?: string; name?: string } = {}): RequestInfo {
  return { isResourceRequest: true, verb, group, version: 'v1', resource, subresource: extra.subresource ?? '', namespace: extra.namespace ?? '', name: extra.name ?? '' };
}

/** The request info of a /v1 request; a path this table does not know is a non-resource request. */
export function groveRequestInfo(method: string, path: string, query: URLSearchParams = new URLSearchParams()): RequestInfo {
  const p = path.split('/').filter((s) => s !== '');
  const verb = method.toLowerCase();
  const at = (i: number): string => p[i] ?? '';
  if (p[0] !== 'v1') return { isResourceRequest: false, verb, path };
  const byMethod = (name: string): string => ({ get: name ? 'get' : 'list', post: 'create', put: 'update', patch: 'patch', delete: name ? 'delete' : 'deletecollection' })[verb] ?? verb;
  switch (at(1)) {
    case 'apply':
      // Objects of any kind, created or updated in one commit: a write of Grove's own.
      return resource('create', GROVE_GROUP, 'applies');
    case 'tokens':
      return resource(byMethod(at(2)), GROVE_GROUP, 'tokens', { name: at(2) });
    case 'admin-token':
      return resource('update', GROVE_GROUP, 'tokens', { name: 'admin' });
    case 'users':
      if (p.length === 4) return resource(byMethod(at(2)), GROVE_GROUP, 'users', { name: at(2), subresource: at(3) });
      return resource(byMethod(at(2)), GROVE_GROUP, 'users', { name: at(2) });
    case 'backup':
      return resource('get', GROVE_GROUP, 'backups');
    case 'volumes':
      return resource('list', GROVE_GROUP, 'volumes');
    case 'logs': {
      const namespace = query.get('namespace') || 'default';
      return resource('get', '', 'pods', { subresource: 'log', namespace, name: query.get('pod') ?? '' });
    }
    case 'nodes':
      if (p.length === 5 && at(3) === 'volumes') return resource(byMethod(at(4)), GROVE_GROUP, 'volumes', { name: at(4) });
      if (p.length === 3) return resource(byMethod(at(2)), '', 'nodes', { name: at(2) });
      break;
    case 'namespaces':
      // /v1/namespaces/<ns>/<deployments|daemonsets>/<name>/rollout[/history|undo|restart]
      if (at(5) === 'rollout') return resource(verb === 'get' ? 'get' : 'patch', 'apps', at(3), { namespace: at(2), name: at(4) });
      break;
  }
  return { isResourceRequest: false, verb, path };
}

/** The request info of any authenticated path: Grove's /v1 table, else Kubernetes' reading. */
export function requestInfoOf(method: string, path: string, query?: URLSearchParams): RequestInfo {
  return path === '/v1' || path.startsWith('/v1/') ? groveRequestInfo(method, path, query) : requestInfo(method, path, query);
}
