/**
 * PURE: how a node names a workload (a pod's top-level owner) in what it reports, e.g. a node
 * status's `deferred[].app`: the workload's name in namespace `default` (as 0.1 named apps, so
 * 0.1 agents and records still read alike), `<namespace>_<name>` in any other. `_` is in no
 * namespace or object name (DNS labels and subdomains), so the key reads back unambiguously.
 * The agent keys its per-workload state the same way (agent/src/agent/plan/pod-fields.ts
 * inNamespace / podApp); the server reads reports with parseNodeWorkloadKey.
 */
import { DEFAULT_NAMESPACE } from './keys.js';

export function nodeWorkloadKey(namespace: string, name: string): string {
  return namespace === DEFAULT_NAMESPACE ? name : `${namespace}_${name}`;
}

export function parseNodeWorkloadKey(key: string): { namespace: string; name: string } {
  const at = key.indexOf('_');
  return at < 0 ? { namespace: DEFAULT_NAMESPACE, name: key } : { namespace: key.slice(0, at), name: key.slice(at + 1) };
}
