/**
 * PURE: what the runtime is asked to run for one container of a pod target — a Kubernetes
 * Container, its PodSpec and the pod's grove.io/ annotations turned into the runtime's terms:
 * argv (command → entrypoint, args → cmd), cgroup limits in numbers ("64Mi", "500m",
 * grove.io/pids), devices and supplementary groups (grove.io/devices, securityContext and
 * grove.io/group-add, fsGroup), the host namespaces it shares (hostPID, hostIPC), the pod's sysctls, the securityContext (privileged, the seccomp profile and the user —
 * the container's, else the pod's —, read-only root, capabilities, privilege escalation), the
 * network mode and the image pull policy (Kubernetes' default for a missing one). `$(VAR)` in
 * command and args is expanded against the container's resolved variables, as the kubelet does.
 *
 * What needs the node (ConfigMap/Secret values, volume directories, the sandbox to join, the
 * update-lock directory) is added by the runtime (container-manager-runtime.ts) at start.
 */
import { defaultImagePullPolicy } from '../../../src/core/objects/defaults.js';
import type { ContainerLimits } from '../runtime/container-spec.js';
import type { DeviceMapping } from '../runtime/host-access.js';
import type { SeccompProfileRef } from '../../../src/core/seccomp-ref.js';
import { expandArgv, type EnvValue } from './var-expansion.js';
import { capabilityName } from '../../../src/core/capabilities.js';
import type { Ulimit } from '../../../src/core/objects/container-options.js';
import {
  devicesOf,
  groveSettingsOf,
  hostNamespacesOf,
  identityOf,
  onHostNetwork,
  privilegedOf,
  resourcesOf,
  seccompOf,
  supplementalGroupsOf,
  sysctlsOf,
  type Container,
  type WirePodTarget,
} from './plan/pod-fields.js';

const NO_VARS: ReadonlyMap<string, EnvValue> = new Map();

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
  hostPID?: true;
  hostIPC?: true;
  /** Namespaced sysctls of the pod (securityContext.sysctls). */
  sysctls?: Record<string, string>;
  devices?: DeviceMapping[];
  groupAdd?: string[];
  privileged?: true;
  seccompProfile?: SeccompProfileRef;
  /** "uid[:gid]" from runAsUser (and runAsGroup). */
  user?: string;
  /** runAsGroup without runAsUser: replaces the image user's group. */
  group?: string;
  runAsNonRoot?: true;
  readOnlyRootfs?: true;
  /** CAP_ names or ALL. */
  capAdd?: string[];
  capDrop?: string[];
  allowPrivilegeEscalation?: true;
  pullPolicy: PullPolicy;
  /** grove.io/ulimits, init, stop-signal, log-max-size, log-max-file (objects/container-options.ts). */
  ulimits?: Ulimit[];
  init?: true;
  stopSignal?: string;
  logMaxBytes?: number;
  logMaxFiles?: number;
}

/** `NET_ADMIN` → `CAP_NET_ADMIN` (the schema admitted only known names and ALL). */
const capNames = (list: readonly string[] | undefined): string[] => (list ?? []).map((c) => capabilityName(c) ?? c);

/** `vars`: the container's variables as resolved at start (config-env.ts); none = nothing to expand against. */
export function containerRunSpec(pod: WirePodTarget, c: Container, vars: ReadonlyMap<string, EnvValue> = NO_VARS): ContainerRunSpec {
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
  if (c.command?.length) out.entrypoint = expandArgv(c.command, vars, c.name, 'command');
  if (c.args?.length) out.args = expandArgv(c.args, vars, c.name, 'args');
  if (c.workingDir) out.workingDir = c.workingDir;
  const { hostPID, hostIPC } = hostNamespacesOf(pod);
  if (hostPID) out.hostPID = true;
  if (hostIPC) out.hostIPC = true;
  const sysctls = sysctlsOf(pod);
  if (Object.keys(sysctls).length > 0) out.sysctls = { ...sysctls };
  const devices = devicesOf(pod);
  if (devices.length > 0) out.devices = devices.map((d) => ({ ...d }));
  const groups = supplementalGroupsOf(pod);
  if (groups.length > 0) out.groupAdd = [...groups];
  if (privilegedOf(c)) out.privileged = true;
  const seccomp = seccompOf(pod, c);
  if (seccomp) out.seccompProfile = seccomp;
  const { runAsUser, runAsGroup, runAsNonRoot } = identityOf(pod, c);
  if (runAsUser !== undefined) out.user = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  else if (runAsGroup !== undefined) out.group = String(runAsGroup);
  if (runAsNonRoot) out.runAsNonRoot = true;
  const sc = c.securityContext;
  if (sc?.readOnlyRootFilesystem) out.readOnlyRootfs = true;
  const capAdd = capNames(sc?.capabilities?.add);
  if (capAdd.length > 0) out.capAdd = capAdd;
  const capDrop = capNames(sc?.capabilities?.drop);
  if (capDrop.length > 0) out.capDrop = capDrop;
  if (sc?.allowPrivilegeEscalation) out.allowPrivilegeEscalation = true;
  const options = groveSettingsOf(pod).container;
  if (options?.ulimits) out.ulimits = options.ulimits.map((u) => ({ ...u }));
  if (options?.init) out.init = true;
  if (options?.stopSignal) out.stopSignal = options.stopSignal;
  if (options?.logMaxBytes !== undefined) out.logMaxBytes = options.logMaxBytes;
  if (options?.logMaxFiles !== undefined) out.logMaxFiles = options.logMaxFiles;
  return out;
}
