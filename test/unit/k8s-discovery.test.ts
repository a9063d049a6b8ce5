/** Discovery documents built from the kind registry plus the extras other parts add. */
import { describe, expect, it } from 'vitest';
import { ALL_KINDS } from '../../src/core/objects/kinds.js';
import { aggregatedDiscovery, apiGroupList, apiGroupOf, apiResourceList, goPlatform, kindResources, versionInfo, type DiscoveryResource } from '../../src/server/k8s-api/discovery.js';
import { SERVED_KINDS } from '../../src/server/k8s-api/discovery-resources.js';

const LOG: DiscoveryResource = { group: '', version: 'v1', kind: 'Pod', plural: 'pods/log', singular: '', shortNames: [], namespaced: true, verbs: ['get'] };
const SCALE: DiscoveryResource = {
  group: 'apps',
  version: 'v1',
  kind: 'Scale',
  plural: 'deployments/scale',
  singular: '',
  shortNames: [],
  namespaced: true,
  verbs: ['get', 'patch', 'update'],
  responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
};
const METRICS: DiscoveryResource = { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', singular: '', shortNames: [], namespaced: false, verbs: ['get', 'list'] };
const resources = [...kindResources(), LOG, SCALE, METRICS];

type Item = Record<string, any>;

describe('discovery', () => {
  it('lists every stored kind with its names, scope and the verbs of the one verbs table', () => {
    const kinds = kindResources();
    expect(kinds.map((r) => r.kind).sort()).toEqual(ALL_KINDS.map((k) => k.kind).sort());
    const deploy = kinds.find((r) => r.plural === 'deployments')!;
    expect(deploy).toMatchObject({ group: 'apps', version: 'v1', kind: 'Deployment', singular: 'deployment', shortNames: ['deploy'], namespaced: true, categories: ['all'] });
    expect(deploy.verbs).toEqual(SERVED_KINDS.Deployment.verbs);
    expect(kinds.find((r) => r.plural === 'nodes')).toMatchObject({ namespaced: false, shortNames: ['no'] });
    expect(kinds.filter((r) => r.categories?.includes('all')).map((r) => r.plural).sort()).toEqual(['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'services', 'statefulsets']);
  });

  it('/version speaks Kubernetes 1.32 with Grove in the build metadata (semver ranges still match 1.32.0)', () => {
    expect(versionInfo('0.1.0', goPlatform('linux', 'x64'))).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0+grove.0.1.0', platform: 'linux/amd64' });
    expect(goPlatform('linux', 'arm64')).toBe('linux/arm64');
  });

  it('/apis lists every group but core; /apis/{group} one; an unknown group is absent', () => {
    const list = apiGroupList(resources) as Item;
    expect(list.groups.map((g: Item) => g.name)).toEqual(['apps', 'batch', 'discovery.k8s.io', 'metrics.k8s.io', 'networking.k8s.io', 'storage.k8s.io']);
    expect(list.groups[0]).toEqual({ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
    expect(apiGroupOf(resources, 'batch')).toMatchObject({ kind: 'APIGroup', name: 'batch' });
    expect(apiGroupOf(resources, 'policy')).toBeUndefined();
    expect(apiGroupOf(resources, '')).toBeUndefined();
  });

  it('APIResourceList: subresources as their own entries, with the group of what they answer', () => {
    const core = apiResourceList(resources, '', 'v1') as Item;
    expect(core).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect(core.resources.find((r: Item) => r.name === 'pods')).toMatchObject({ singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    expect(core.resources.find((r: Item) => r.name === 'pods/log')).toEqual({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    const apps = apiResourceList(resources, 'apps', 'v1') as Item;
    expect(apps.resources.find((r: Item) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(apiResourceList(resources, 'apps', 'v2')).toBeUndefined();
  });

  it('aggregated discovery: core alone for /api, the rest for /apis, subresources nested in their parent', () => {
    const api = aggregatedDiscovery(resources, true, 'v2') as Item;
    expect(api).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
    expect(api.items).toHaveLength(1);
    expect(api.items[0].metadata).toEqual({});
    const pods = api.items[0].versions[0].resources.find((r: Item) => r.resource === 'pods');
    expect(pods).toMatchObject({ responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'], subresources: [{ subresource: 'log', responseKind: { kind: 'Pod' }, verbs: ['get'] }] });
    expect(api.items[0].versions[0].resources.some((r: Item) => r.resource.includes('/'))).toBe(false);
    const apis = aggregatedDiscovery(resources, false, 'v2beta1') as Item;
    expect(apis.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect(apis.items.map((g: Item) => g.metadata.name)).toEqual(['apps', 'batch', 'discovery.k8s.io', 'metrics.k8s.io', 'networking.k8s.io', 'storage.k8s.io']);
    const deploy = apis.items[0].versions[0].resources.find((r: Item) => r.resource === 'deployments');
    expect(deploy.subresources).toEqual([{ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] }]);
    expect(apis.items[0].versions[0].freshness).toBe('Current');
  });
});
