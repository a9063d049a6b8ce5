/**
 * Kubernetes `securityContext.seccompProfile`, at pod and container level (the container's
 * wins, as in Kubernetes). RuntimeDefault is Grove's default profile and leaves the model
 * untouched; Unconfined and Localhost travel to the node (docs/manifests.md, docs/security.md).
 */
import { checkLocalhostProfile, type SeccompProfileRef } from '../seccomp-ref.js';
import { atField, manifestError, type DocContext, type FieldPath } from './location.js';

export interface K8sSeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostProfile?: string;
}

/** What one securityContext says: a profile, RuntimeDefault written out, or nothing. */
export type SeccompChoice = SeccompProfileRef | { type: 'RuntimeDefault' } | undefined;

/** Checks the field at `path` (…securityContext.seccompProfile) as Kubernetes does. */
export function seccompChoice(ctx: DocContext, path: FieldPath, p: K8sSeccompProfile | undefined): SeccompChoice {
  if (!p) return undefined;
  if (p.type !== 'Localhost') {
    if (p.localhostProfile !== undefined) throw manifestError(ctx, [...path, 'localhostProfile'], 'can only be set when type is Localhost');
    return { type: p.type };
  }
  if (p.localhostProfile === undefined) throw manifestError(ctx, [...path, 'localhostProfile'], "is required when type is Localhost (a path relative to the node's <data-dir>/seccomp/)");
  const profile = p.localhostProfile;
  return { type: 'Localhost', localhostProfile: atField(ctx, [...path, 'localhostProfile'], (f) => checkLocalhostProfile(profile, f)) };
}

/** The container's own choice, else the pod's; undefined for the runtime default. */
export function effectiveSeccomp(own: SeccompChoice, pod: SeccompChoice): SeccompProfileRef | undefined {
  const choice = own ?? pod;
  return choice && choice.type !== 'RuntimeDefault' ? { ...choice } : undefined;
}
