/**
 * Kubernetes discovery documents, built from the kind registry (ALL_KINDS) with what the server
 * serves for each kind (discovery-resources.ts) plus the resources other parts of the API add
 * (DiscoveryResource extras: events, metrics, subresources such as pods/log):
 *
 *   /version                      version.Info (kubectl version)
 *   /api                          APIVersions, or the aggregated APIGroupDiscoveryList of core/v1
 *   /apis                         APIGroupList, or the aggregated list of every other group
 *   /apis/{group}                 APIGroup
 *   /api/v1, /apis/{group}/{v}    APIResourceList
 *
 * Pure: the builders take the resources and return plain objects; discovery-routes.ts answers them.
 */
import { ALL_KINDS } from '../../core/objects/kinds.js';
import { SERVED_KINDS, type Verb } from './discovery-resources.js';
import { codeUnitOrder } from '../../core/text-order.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * A resource as discovery announces it (design contract 3). `plural` with a slash
 * ("pods/log") is a subresource of the resource before the slash, in the same group and version;
 * `responseKind` says what it answers when that is not `kind` in this group and version
 * (deployments/scale answers an autoscaling/v1 Scale).
 */
export interface DiscoveryResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  verbs: readonly (Verb | string)[];
  categories?: readonly string[];
  responseKind?: GroupVersionKind;
  /** The JSON Schema of the kind, for the OpenAPI documents (the stored kinds' come from their registry). */
  schema?: object;
}

/** The stored kinds as discovery resources, by name as the API server lists them (`get all`'s order). */
export function kindResources(): DiscoveryResource[] {
  return [...ALL_KINDS].sort((a, b) => codeUnitOrder(a.plural, b.plural)).map((k) => ({
    group: k.group,
    version: k.version,
    kind: k.kind,
    plural: k.plural,
    singular: k.singular,
    shortNames: k.shortNames,
    namespaced: k.namespaced,
    verbs: SERVED_KINDS[k.kind].verbs,
    categories: SERVED_KINDS[k.kind].categories,
  }));
}

/** The groups and versions of `resources`, core ("") first, then by name. */
export function groupVersions(resources: readonly DiscoveryResource[]): { group: string; versions: string[] }[] {
  const byGroup = new Map<string, Set<string>>();
  for (const r of resources) {
    const versions = byGroup.get(r.group) ?? new Set<string>();
    versions.add(r.version);
    byGroup.set(r.group, versions);
  }
  return [...byGroup.entries()].sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : codeUnitOrder(a, b))).map(([group, versions]) => ({ group, versions: [...versions].sort() }));
}

/** "api/v1", "apis/apps/v1": how the v3 index names a group version. */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const gvText = (group: string, version: string): string => (group ? `${group}/${version}` : version);

/* ------------------------------------------------------------------ /version */

/**
 * version.Info. Grove speaks the API of Kubernetes 1.32 (what kubectl checks its skew
 * against); its own version rides in the build metadata, as k3s does ("v1.32.0+grove.0.1.0"):
 * semver ranges (Helm's kubeVersion) still compare 1.32.0, which a "-grove" pre-release would not.
 */
export const KUBERNETES_MINOR = 32;

/** "linux/arm64": Node's platform and architecture as Go (and so kubectl) names them. */
export function goPlatform(platform: string, arch: string): string {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', riscv64: 'riscv64' };
  return `${platform}/${goArch[arch] ?? arch}`;
}

export function versionInfo(groveVersion: string, platform: string): Record<string, string> {
  return {
    major: '1',
    minor: String(KUBERNETES_MINOR),
    gitVersion: `v1.${KUBERNETES_MINOR}.0+grove.${groveVersion}`,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '',
    goVersion: '',
    compiler: 'grove',
    platform,
  };
}

/* ------------------------------------------------------------ legacy discovery */

export function apiVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
}

function apiGroup(group: string, versions: readonly string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: gvText(group, v), version: v }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

/** /apis: every group but core. */
export function apiGroupList(resources: readonly DiscoveryResource[]): Record<string, unknown> {
  const groups = groupVersions(resources).filter((g) => g.group !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g.group, g.versions)) };
}

/** /apis/{group}, or undefined when no resource is in that group. */
export function apiGroupOf(resources: readonly DiscoveryResource[], group: string): Record<string, unknown> | undefined {
  const found = groupVersions(resources).find((g) => g.group === group && group !== '');
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(found.group, found.versions) } : undefined;
}

/** /api/v1 or /apis/{group}/{version}, or undefined when that group version serves nothing. */
export function apiResourceList(resources: readonly DiscoveryResource[], group: string, version: string): Record<string, unknown> | undefined {
  const here = resources.filter((r) => r.group === group && r.version === version);
  if (here.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gvText(group, version),
    resources: here.map((r) => ({
      name: r.plural,
      singularName: r.plural.includes('/') ? '' : r.singular,
      namespaced: r.namespaced,
      ...(r.responseKind ? { group: r.responseKind.group, version: r.responseKind.version } : {}),
      kind: r.responseKind?.kind ?? r.kind,
      verbs: [...r.verbs],
      ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories?.length ? { categories: [...r.categories] } : {}),
    })),
  };
}

/* -------------------------------------------------------- aggregated discovery */

function responseKindOf(r: DiscoveryResource): GroupVersionKind {
  return r.responseKind ?? { group: r.group, version: r.version, kind: r.kind };
}

function resourceDiscovery(parent: DiscoveryResource, subresources: readonly DiscoveryResource[]): Record<string, unknown> {
  return {
    resource: parent.plural,
    responseKind: responseKindOf(parent),
    scope: parent.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: parent.singular,
    verbs: [...parent.verbs],
    ...(parent.shortNames.length ? { shortNames: [...parent.shortNames] } : {}),
    ...(parent.categories?.length ? { categories: [...parent.categories] } : {}),
    ...(subresources.length
      ? { subresources: subresources.map((s) => ({ subresource: s.plural.slice(s.plural.indexOf('/') + 1), responseKind: responseKindOf(s), verbs: [...s.verbs] })) }
      : {}),
  };
}

function versionDiscovery(resources: readonly DiscoveryResource[], group: string, version: string): Record<string, unknown> {
  const here = resources.filter((r) => r.group === group && r.version === version);
  const parents = here.filter((r) => !r.plural.includes('/'));
  const subsOf = (plural: string) => here.filter((r) => r.plural.startsWith(`${plural}/`));
  return { version, resources: parents.map((p) => resourceDiscovery(p, subsOf(p.plural))), freshness: 'Current' };
}

/**
 * The aggregated discovery of core/v1 (`core: true`, for /api) or of every other group (for
 * /apis): one request instead of one per group version. `apiVersion` follows what the client
 * asked for (v2, or v2beta1 for older clients: the same shape).
 */
export function aggregatedDiscovery(resources: readonly DiscoveryResource[], core: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const groups = groupVersions(resources).filter((g) => (g.group === '') === core);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.group ? { name: g.group } : {},
      versions: g.versions.map((v) => versionDiscovery(resources, g.group, v)),
    })),
  };
}
