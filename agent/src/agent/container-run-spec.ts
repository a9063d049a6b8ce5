/**
 * PURE: what the runtime is asked to run for one container of a pod target — a Kubernetes
 * Container, its PodSpec and the pod's grove.io/ annotations turned into the runtime's terms:
 * argv (command → entrypoint, args → cmd), cgroup limits in numbers ("64Mi", "500m",
 * grove.io/pids), devices and supplementary groups (grove.io/devices, securityContext and
 * grove.io/group-add), privileged, the seccomp profile (the container's, else the pod's), the
 * network mode and the image pull policy (Kubernetes' default for a missing one).
 *
 * What needs the node (ConfigMap/Secret values, volume directories, the sandbox to join, the
 * update-lock directory) is added by the runtime (container-manager-runtime.ts) at start.
 */
import { defaultImagePullPolicy } from '../../../src/core/objects/defaults.js';
import type { ContainerLimits } from '../runtime/container-spec.js';
import type { DeviceMapping } from '../runtime/host-access.js';
import type { SeccompProfileRef } from '../../../src/core/seccomp-ref.js';
import {
  devicesOf,
  onHostNetwork,
  privilegedOf,
  resourcesOf,
  seccompOf,
  supplementalGroupsOf,
  type Container,
  type WirePodTarget,
} from './plan/pod-fields.js';

export type PullPolicy = NonNullable<Container['imagePullPolicy']>;

export interface ContainerRunSpec {
  image: string;
  /** Replaces the image's Entrypoint (Kubernetes command). */
  entrypoint?: string[];
  /** Replaces the image's Cmd (Kubernetes args). */
  args?: string[];
  workingDir?: string;
  limits: ContainerLimits;
  hostNetwork: boolean;
  devices?: DeviceMapping[];
  groupAdd?: string[];
  privileged?: true;
  seccompProfile?: SeccompProfileRef;
  pullPolicy: PullPolicy;
}

export function containerRunSpec(pod: WirePodTarget, c: Container): ContainerRunSpec {
  const r = resourcesOf(c);
  const limits: ContainerLimits = {};
  if (r.memoryBytes !== undefined) limits.memoryBytes = r.memoryBytes;
  if (r.cpus !== undefined) limits.cpus = r.cpus;
  if (r.pidsLimit !== undefined) limits.pidsLimit = r.pidsLimit;
  const out: ContainerRunSpec = {
    image: c.image,
    limits,
    hostNetwork: onHostNetwork(pod),
    // Servers default it; a target written by hand may not have.
    pullPolicy: c.imagePullPolicy ?? defaultImagePullPolicy(c.image),
  };
  if (c.command?.length) out.entrypoint = [...c.command];
  if (c.args?.length) out.args = [...c.args];
  if (c.workingDir) out.workingDir = c.workingDir;
  const devices = devicesOf(pod);
  if (devices.length > 0) out.devices = devices.map((d) => ({ ...d }));
  const groups = supplementalGroupsOf(pod);
  if (groups.length > 0) out.groupAdd = [...groups];
  if (privilegedOf(c)) out.privileged = true;
  const seccomp = seccompOf(pod, c);
  if (seccomp) out.seccompProfile = seccomp;
  return out;
}
