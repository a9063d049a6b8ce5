/**
 * What a request asks to do, read from its method, path and query alone, the way the Kubernetes
 * API server's RequestInfoFactory reads it (staging/src/k8s.io/apiserver/pkg/endpoints/request):
 * a resource request under /api/<version> or /apis/<group>/<version> has a verb (get, list,
 * watch, create, update, patch, delete, deletecollection), a resource, maybe a subresource, a
 * namespace and a name; anything else (/version, /api, /apis/apps, /openapi/v3, /healthz) is a
 * non-resource request whose verb is the lowercased method. Pure: the authorizer and the access
 * reviews decide on what this returns, before any route runs.
 */

export interface ResourceAttributes {
  verb: string;
  /** "" for the core group. */
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** "" for all namespaces or a cluster-scoped resource. */
  namespace: string;
  /** "" for a collection. */
  name: string;
}

export interface NonResourceAttributes {
  verb: string;
  path: string;
}

export type RequestInfo = ({ isResourceRequest: true } & ResourceAttributes) | ({ isResourceRequest: false } & NonResourceAttributes);

/** Subresources opened with GET for a WebSocket that act like a POST: authorized as `create` (Kubernetes 1.30+). */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
/** Paths under a namespace that are the Namespace's own subresources, not a resource in it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Legacy verbs spelled in the path (/api/v1/watch/pods): they come before the resource. */
const PATH_VERBS = new Set(['watch', 'proxy']);

function methodVerb(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

/** `watch=true` (any value but false/0, as the API server reads it). */
function watchAsked(query: URLSearchParams): boolean {
  const v = query.get('watch');
  return v !== null && !['false', '0'].includes(v.toLowerCase());
}

/** A field selector that names one object (`metadata.name=web`) makes a list an authorization on that name. */
function nameFromFieldSelector(query: URLSearchParams): string {
  const selector = query.get('fieldSelector');
  if (!selector) return '';
  for (const term of selector.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*([^\s]+)\s*$/.exec(term);
    if (m && m[1] !== '.' && m[1] !== '..' && !/[/%]/.test(m[1]!)) return m[1]!;
  }
  return '';
}

/**
 * The request info of `method path?query`; `path` is the decoded path without the query (the
 * router's segments joined with "/").
 */
export function requestInfo(method: string, path: string, query: URLSearchParams = new URLSearchParams()): RequestInfo {
  const nonResource: RequestInfo = { isResourceRequest: false, verb: method.toLowerCase(), path };
  let parts = path.split('/').filter((p) => p !== '');
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  parts = parts.slice(1);
  let group = '';
  if (prefix === 'apis') {
    // /apis and /apis/<group>[/<version>] are discovery: no resource yet.
    if (parts.length < 3) return nonResource;
    group = parts[0]!;
    parts = parts.slice(1);
  } else if (parts.length < 2) {
    // /api and /api/v1 are discovery.
    return nonResource;
  }
  const version = parts[0]!;
  parts = parts.slice(1);

  let verb: string;
  if (PATH_VERBS.has(parts[0]!)) {
    // /api/v1/watch/pods: the verb is in the path and a resource must follow.
    if (parts.length < 2) return nonResource;
    verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    verb = methodVerb(method);
  }

  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    // /namespaces/<ns>/<resource>/…; but /namespaces/<ns>/status is the Namespace's own subresource.
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }

  const resource = parts[0] ?? '';
  let name = parts[1] ?? '';
  // proxy takes the rest of the path as its own; every other verb reads a subresource.
  const subresource = verb !== 'proxy' ? (parts[2] ?? '') : '';

  if (name === '' && verb === 'get') {
    verb = watchAsked(query) ? 'watch' : 'list';
    name = nameFromFieldSelector(query);
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  if (verb === 'get' && resource === 'pods' && STREAMING_SUBRESOURCES.has(subresource)) verb = 'create';
  return { isResourceRequest: true, verb, group, version, resource, subresource, namespace, name };
}
