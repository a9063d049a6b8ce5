/**
 * The rules of the pod runtime fields (pod-runtime.ts) a schema cannot say, as Kubernetes words
 * them: only sysctls that live in a namespace the pod owns are accepted (net.* in its network
 * namespace, the IPC ones in its IPC namespace); a sysctl of the whole node, or one of a
 * namespace the pod shares with the host, is refused with the reason. Pure and free of TypeBox:
 * the agent loads it with the pod rules.
 */
import { quoteValue } from '../quote.js';
import type { PodSpec } from './pod.js';

/** Kubernetes' sysctl name format, dotted (the slash form is not accepted: runtimes read dots). */
export const SYSCTL_NAME = '^([a-z0-9]([-_a-z0-9]*[a-z0-9])?\\.)*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$';

/** The IPC namespace's sysctls, as the kubelet lists them (and fs.mqueue.* below). */
const IPC_SYSCTLS = new Set(['kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni']);

/** Which of the pod's namespaces a sysctl lives in; undefined: it is the whole node's. */
export function sysctlNamespace(name: string): 'network' | 'ipc' | undefined {
  if (name.startsWith('net.')) return 'network';
  if (name.startsWith('fs.mqueue.') || IPC_SYSCTLS.has(name)) return 'ipc';
  return undefined;
}

export interface PodRuntimeProblem {
  /** Relative to the PodSpec. */
  path: (string | number)[];
  reason: string;
}

/** Every sysctl problem of `spec`: not namespaced, in a namespace shared with the host, or set twice. */
export function podRuntimeProblems(spec: Pick<PodSpec, 'hostNetwork' | 'hostIPC' | 'securityContext'>): PodRuntimeProblem[] {
  const out: PodRuntimeProblem[] = [];
  const seen = new Set<string>();
  (spec.securityContext?.sysctls ?? []).forEach((s, i) => {
    const path = ['securityContext', 'sysctls', i, 'name'];
    const ns = sysctlNamespace(s.name);
    if (seen.has(s.name)) out.push({ path, reason: `${quoteValue(s.name)} is set twice` });
    seen.add(s.name);
    if (ns === undefined) {
      out.push({ path, reason: `${quoteValue(s.name)} is not a namespaced sysctl: it would change the whole node (only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set per pod, as in Kubernetes)` });
    } else if (ns === 'network' && spec.hostNetwork === true) {
      out.push({ path, reason: `${quoteValue(s.name)} cannot be set with hostNetwork: true (the pod shares the node's network namespace)` });
    } else if (ns === 'ipc' && spec.hostIPC === true) {
      out.push({ path, reason: `${quoteValue(s.name)} cannot be set with hostIPC: true (the pod shares the node's IPC namespace)` });
    }
  });
  return out;
}
