/**
 * The rules of a PodSpec a schema cannot say: names unique across a pod, mounts naming one of
 * its volumes, one mount per path, one claim per host port, quantities that parse and requests
 * within limits. Pure: every problem is returned (path + reason), so the client reports all of
 * a file's at once, the server refuses the object and the agent refuses a target that breaks them.
 */
import { containerPortNumber, handlerPorts } from './named-ports.js';
import { parseImageRef } from '../image-ref.js';
import { quoteValue } from '../quote.js';
import { isGroveError } from '../errors.js';
import { parseK8sMemory } from '../manifests/k8s-quantity.js';
import { findHostPortClash, hostPortClashMessage } from '../wire-ports.js';
import type { Container } from './pod-container.js';
import type { PodSpec } from './pod.js';
import { containerResources } from './resources.js';
import { podRuntimeProblems } from './pod-runtime-rules.js';
import { VOLUME_LIMITS } from './limits.js';
import { affinityProblems, spreadProblems } from './affinity-rules.js';

export type PathSegment = string | number;

export interface RuleProblem {
  /** Relative to the PodSpec (["containers", 0, "volumeMounts", 1, "name"]). */
  path: PathSegment[];
  reason: string;
}

type ContainerList = readonly Pick<Container, 'name' | 'image' | 'volumeMounts' | 'ports' | 'resources'>[];

function uniqueNames(spec: PodSpec, out: RuleProblem[]): void {
  const mains = new Map<string, number>();
  spec.containers.forEach((c, i) => {
    if (mains.has(c.name)) out.push({ path: ['containers', i, 'name'], reason: `${quoteValue(c.name)} is used by another container of this pod` });
    else mains.set(c.name, i);
  });
  const inits = new Set<string>();
  (spec.initContainers ?? []).forEach((c, i) => {
    const path = ['initContainers', i, 'name'];
    // Both become <pod>_<name> on the node.
    if (mains.has(c.name)) out.push({ path, reason: `${quoteValue(c.name)} is also the name of a container of this pod` });
    else if (inits.has(c.name)) out.push({ path, reason: `${quoteValue(c.name)} is used by another init container of this pod` });
    inits.add(c.name);
  });
}

function volumes(spec: PodSpec, out: RuleProblem[]): Set<string> {
  const names = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    if (names.has(v.name)) out.push({ path: ['volumes', i, 'name'], reason: `${quoteValue(v.name)} is used by another volume of this pod` });
    names.add(v.name);
    const items = v.configMap?.items ?? v.secret?.items ?? [];
    const source = v.configMap ? 'configMap' : 'secret';
    const paths = new Set<string>();
    items.forEach((item, j) => {
      const normal = item.path.split('/').filter((p) => p !== '' && p !== '.').join('/');
      if (paths.has(normal)) out.push({ path: ['volumes', i, source, 'items', j, 'path'], reason: `${quoteValue(item.path)} is used by another item` });
      paths.add(normal);
    });
    const size = v.emptyDir?.sizeLimit;
    if (size !== undefined) {
      const path = ['volumes', i, 'emptyDir', 'sizeLimit'];
      try {
        const bytes = parseK8sMemory(size, 'sizeLimit');
        if (bytes < 4096 || bytes > VOLUME_LIMITS.sizeBytes) out.push({ path, reason: `${quoteValue(String(size))} must be from 4Ki to 1Ti` });
      } catch (err) {
        out.push({ path, reason: message(err, 'sizeLimit') });
      }
    }
  });
  return names;
}

/** "/a//b/" and "/a/b" are one mount point. */
const normalPath = (p: string): string => `/${p.split('/').filter((x) => x !== '' && x !== '.').join('/')}`;

function mounts(field: 'containers' | 'initContainers', list: ContainerList, volumeNames: Set<string>, out: RuleProblem[]): void {
  list.forEach((c, i) => {
    const paths = new Set<string>();
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!volumeNames.has(m.name)) out.push({ path: [field, i, 'volumeMounts', j, 'name'], reason: `no volume named ${quoteValue(m.name)} in this pod's volumes` });
      const at = normalPath(m.mountPath);
      if (paths.has(at)) out.push({ path: [field, i, 'volumeMounts', j, 'mountPath'], reason: `${quoteValue(m.mountPath)} is the mount path of another mount of this container` });
      paths.add(at);
    });
  });
}

/** A probe or hook naming a port the same container does not have (the kubelet would fail it for ever). */
function namedPorts(field: 'containers' | 'initContainers', list: readonly Container[], out: RuleProblem[]): void {
  list.forEach((c, i) => {
    for (const h of handlerPorts(c)) {
      if (containerPortNumber(c, h.port) === undefined) out.push({ path: [field, i, ...h.path], reason: `no port named ${quoteValue(String(h.port))} among this container's ports` });
    }
  });
}

function message(err: unknown, field: string): string {
  if (!isGroveError(err)) throw err;
  const i = err.message.indexOf(`${field}: `);
  return i >= 0 ? err.message.slice(i + field.length + 2) : err.message;
}

function resources(field: 'containers' | 'initContainers', list: ContainerList, out: RuleProblem[]): void {
  list.forEach((c, i) => {
    try {
      containerResources(c.resources);
    } catch (err) {
      if (!isGroveError(err)) throw err;
      const { field: at, reason } = err.details as { field?: string[]; reason?: string };
      out.push({ path: [field, i, 'resources', ...(at ?? [])], reason: reason ?? err.message });
    }
  });
}

/** Image references a registry can be asked for (the node pulls them as written). */
function images(field: 'containers' | 'initContainers', list: ContainerList, out: RuleProblem[]): void {
  list.forEach((c, i) => {
    if (typeof c.image !== 'string') return; // the schema's problem
    try {
      parseImageRef(c.image);
    } catch (err) {
      if (!isGroveError(err)) throw err;
      out.push({ path: [field, i, 'image'], reason: err.message });
    }
  });
}

/**
 * Kubernetes' securityContext checks: no_new_privs cannot be asked of a privileged container
 * (or one given CAP_SYS_ADMIN), and runAsNonRoot with runAsUser 0 could never start (the kubelet
 * finds out at start; here it is an apply error). The container's fields win over the pod's.
 */
function securityContexts(spec: PodSpec, out: RuleProblem[]): void {
  const pod = spec.securityContext;
  const check = (field: 'containers' | 'initContainers', c: Pick<Container, 'securityContext'>, i: number): void => {
    const sc = c.securityContext;
    const at = [field, i, 'securityContext'];
    if (sc?.allowPrivilegeEscalation === false) {
      if (sc.privileged === true) out.push({ path: [...at, 'allowPrivilegeEscalation'], reason: 'cannot be false when privileged is true' });
      if (sc.capabilities?.add?.some((name) => name === 'SYS_ADMIN' || name === 'CAP_SYS_ADMIN')) {
        out.push({ path: [...at, 'allowPrivilegeEscalation'], reason: 'cannot be false when capabilities.add has SYS_ADMIN' });
      }
    }
    const nonRoot = sc?.runAsNonRoot ?? pod?.runAsNonRoot;
    const user = sc?.runAsUser ?? pod?.runAsUser;
    if (nonRoot === true && user === 0) {
      const path = sc?.runAsUser !== undefined ? [...at, 'runAsUser'] : ['securityContext', 'runAsUser'];
      // The pod's runAsUser is reported once, however many containers inherit it.
      if (!out.some((p) => p.path.join('/') === path.join('/'))) out.push({ path, reason: 'is 0 (root), and runAsNonRoot is true: the container could never start' });
    }
  };
  spec.containers.forEach((c, i) => check('containers', c, i));
  (spec.initContainers ?? []).forEach((c, i) => check('initContainers', c, i));
}

/** A container restartPolicy (Always) makes an init container a native sidecar; main containers cannot set one. */
function containerRestartPolicies(spec: PodSpec, out: RuleProblem[]): void {
  spec.containers.forEach((c, i) => {
    if (c.restartPolicy !== undefined) out.push({ path: ['containers', i, 'restartPolicy'], reason: 'can only be set on init containers (Always: a native sidecar); main containers follow the pod\'s restartPolicy' });
  });
}

/** Every problem of `spec` the schema could not see; [] when there is none. */
export function podSpecProblems(spec: PodSpec): RuleProblem[] {
  const out: RuleProblem[] = [];
  uniqueNames(spec, out);
  images('containers', spec.containers, out);
  images('initContainers', spec.initContainers ?? [], out);
  const volumeNames = volumes(spec, out);
  mounts('containers', spec.containers, volumeNames, out);
  mounts('initContainers', spec.initContainers ?? [], volumeNames, out);
  namedPorts('containers', spec.containers, out);
  namedPorts('initContainers', spec.initContainers ?? [], out);
  resources('containers', spec.containers, out);
  resources('initContainers', spec.initContainers ?? [], out);
  securityContexts(spec, out);
  out.push(...podRuntimeProblems(spec));
  containerRestartPolicies(spec, out);
  out.push(...affinityProblems(spec.affinity), ...spreadProblems(spec.topologySpreadConstraints));
  // As Kubernetes: a pod that gives up the node's DNS settings must name a server of its own.
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig?.nameservers?.length) {
    out.push({ path: ['dnsConfig', 'nameservers'], reason: 'dnsPolicy None needs at least one nameserver in dnsConfig' });
  }
  const clash = findHostPortClash(spec.containers.map((c) => ({ name: c.name, ports: (c.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })) })));
  if (clash) out.push({ path: ['containers', clash.container, 'ports', clash.port, 'hostPort'], reason: hostPortClashMessage(clash) });
  return out;
}
