import { describe, expect, it } from 'vitest';
import { groveRequestInfo, requestInfoOf } from '../../src/server/auth/grove-request-info.js';
import { requestInfo } from '../../src/server/auth/request-info.js';

/** [method, path?query, verb, group, resource, subresource, namespace, name] — the API server's own examples (request/requestinfo_test.go) and kubectl's requests. */
const RESOURCE_CASES: [string, string, string, string, string, string, string, string][] = [
  ['GET', '/api/v1/namespaces', 'list', '', 'namespaces', '', '', ''],
  ['GET', '/api/v1/namespaces/other', 'get', '', 'namespaces', '', 'other', 'other'],
  ['GET', '/api/v1/namespaces/other/pods/foo', 'get', '', 'pods', '', 'other', 'foo'],
  ['HEAD', '/api/v1/namespaces/other/pods/foo', 'get', '', 'pods', '', 'other', 'foo'],
  ['GET', '/api/v1/pods', 'list', '', 'pods', '', '', ''],
  ['GET', '/api/v1/namespaces/other/pods', 'list', '', 'pods', '', 'other', ''],
  ['GET', '/api/v1/pods?watch=true', 'watch', '', 'pods', '', '', ''],
  ['GET', '/api/v1/pods?watch=false', 'list', '', 'pods', '', '', ''],
  ['GET', '/api/v1/pods?watch=1', 'watch', '', 'pods', '', '', ''],
  ['GET', '/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo', 'list', '', 'pods', '', 'other', 'foo'],
  ['GET', '/api/v1/namespaces/other/pods?watch=true&fieldSelector=metadata.name%3D%3Dfoo', 'watch', '', 'pods', '', 'other', 'foo'],
  ['GET', '/api/v1/watch/pods', 'watch', '', 'pods', '', '', ''],
  ['GET', '/api/v1/watch/namespaces/other/pods', 'watch', '', 'pods', '', 'other', ''],
  ['POST', '/api/v1/namespaces/other/pods', 'create', '', 'pods', '', 'other', ''],
  ['PUT', '/api/v1/namespaces/other/pods/foo', 'update', '', 'pods', '', 'other', 'foo'],
  ['PATCH', '/api/v1/namespaces/other/pods/foo', 'patch', '', 'pods', '', 'other', 'foo'],
  ['DELETE', '/api/v1/namespaces/other/pods/foo', 'delete', '', 'pods', '', 'other', 'foo'],
  ['DELETE', '/api/v1/namespaces/other/pods', 'deletecollection', '', 'pods', '', 'other', ''],
  ['GET', '/api/v1/namespaces/other/pods/foo/log', 'get', '', 'pods', 'log', 'other', 'foo'],
  ['PUT', '/api/v1/namespaces/other/pods/foo/status', 'update', '', 'pods', 'status', 'other', 'foo'],
  ['POST', '/api/v1/namespaces/other/pods/foo/eviction', 'create', '', 'pods', 'eviction', 'other', 'foo'],
  // WebSocket exec/attach/portforward open with GET and are authorized as create (Kubernetes 1.30+).
  ['GET', '/api/v1/namespaces/other/pods/foo/exec?command=sh', 'create', '', 'pods', 'exec', 'other', 'foo'],
  ['GET', '/api/v1/namespaces/other/pods/foo/attach', 'create', '', 'pods', 'attach', 'other', 'foo'],
  ['GET', '/api/v1/namespaces/other/pods/foo/portforward', 'create', '', 'pods', 'portforward', 'other', 'foo'],
  ['PUT', '/api/v1/namespaces/other/finalize', 'update', '', 'namespaces', 'finalize', 'other', 'other'],
  ['GET', '/api/v1/namespaces/other/status', 'get', '', 'namespaces', 'status', 'other', 'other'],
  ['GET', '/api/v1/nodes/pi-1', 'get', '', 'nodes', '', '', 'pi-1'],
  ['PATCH', '/api/v1/nodes/pi-1', 'patch', '', 'nodes', '', '', 'pi-1'],
  ['GET', '/apis/apps/v1/namespaces/other/deployments/web', 'get', 'apps', 'deployments', '', 'other', 'web'],
  ['PATCH', '/apis/apps/v1/namespaces/other/deployments/web/scale', 'patch', 'apps', 'deployments', 'scale', 'other', 'web'],
  ['GET', '/apis/batch/v1/jobs', 'list', 'batch', 'jobs', '', '', ''],
  ['GET', '/apis/metrics.k8s.io/v1beta1/nodes', 'list', 'metrics.k8s.io', 'nodes', '', '', ''],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews', '', '', ''],
  ['GET', '/api/v1/proxy/namespaces/other/pods/foo/a/b', 'proxy', '', 'pods', '', 'other', 'foo'],
];

describe('request info (as the API server reads a URL)', () => {
  it.each(RESOURCE_CASES)('%s %s → %s', (method, url, verb, group, resource, subresource, namespace, name) => {
    const [path, query] = url.split('?');
    expect(requestInfo(method, path!, new URLSearchParams(query))).toEqual({ isResourceRequest: true, verb, group, version: url.startsWith('/api/') ? 'v1' : url.split('/')[3], resource, subresource, namespace, name });
  });

  it.each([
    ['GET', '/version'],
    ['GET', '/api'],
    ['GET', '/api/v1'],
    ['GET', '/apis'],
    ['GET', '/apis/apps'],
    ['GET', '/apis/apps/v1'],
    ['GET', '/openapi/v3/apis/apps/v1'],
    ['GET', '/healthz'],
    ['POST', '/logs/'],
    ['GET', '/api/v1/watch'],
  ])('%s %s is a non-resource request', (method, path) => {
    expect(requestInfo(method, path)).toEqual({ isResourceRequest: false, verb: method.toLowerCase(), path });
  });
});

describe("Grove's /v1 paths, mapped to the verbs of their Kubernetes twins", () => {
  const info = (method: string, url: string) => {
    const [path, query] = url.split('?');
    const i = requestInfoOf(method, path!, new URLSearchParams(query));
    return i.isResourceRequest ? [i.verb, i.group, i.subresource ? `${i.resource}/${i.subresource}` : i.resource, i.namespace, i.name].join(' ') : `${i.verb} path ${i.path}`;
  };

  it.each([
    ['POST', '/v1/apply', 'create grove.io applies  '],
    ['GET', '/v1/tokens', 'list grove.io tokens  '],
    ['POST', '/v1/tokens', 'create grove.io tokens  '],
    ['DELETE', '/v1/tokens/abcd1234', 'delete grove.io tokens  abcd1234'],
    ['POST', '/v1/admin-token/rotate', 'update grove.io tokens  admin'],
    ['GET', '/v1/users', 'list grove.io users  '],
    ['POST', '/v1/users', 'create grove.io users  '],
    ['DELETE', '/v1/users/ann', 'delete grove.io users  ann'],
    ['POST', '/v1/users/ann/certificates', 'create grove.io users/certificates  ann'],
    ['GET', '/v1/backup', 'get grove.io backups  '],
    ['GET', '/v1/volumes?node=pi', 'list grove.io volumes  '],
    ['DELETE', '/v1/nodes/pi/volumes/data', 'delete grove.io volumes  data'],
    ['PATCH', '/v1/nodes/pi', 'patch  nodes  pi'],
    ['DELETE', '/v1/nodes/pi', 'delete  nodes  pi'],
    ['GET', '/v1/logs?namespace=shop&pod=web-1', 'get  pods/log shop web-1'],
    ['GET', '/v1/logs?workload=web', 'get  pods/log default '],
    ['GET', '/v1/namespaces/shop/deployments/web/rollout/history', 'get apps deployments shop web'],
    ['POST', '/v1/namespaces/shop/deployments/web/rollout/undo', 'patch apps deployments shop web'],
    ['GET', '/v1/nosuch', 'get path /v1/nosuch'],
    ['GET', '/api/v1/pods', 'list  pods  '],
  ])('%s %s → %s', (method, url, expected) => {
    expect(info(method, url)).toBe(expected);
  });

  it('answers a path outside /v1 as a non-resource request', () => {
    expect(groveRequestInfo('GET', '/healthz')).toEqual({ isResourceRequest: false, verb: 'get', path: '/healthz' });
  });
});
