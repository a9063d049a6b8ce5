/**
 * The identity of a pod template: Kubernetes' `pod-template-hash` (Deployment → ReplicaSet) and
 * `controller-revision-hash` (DaemonSet → ControllerRevision) labels, and a node's container
 * identity (pod name, container name, template hash). sha256 of the canonical CBOR encoding,
 * so key order never matters and equal templates hash alike on every server and agent.
 */
import { createHash } from 'node:crypto';
import { encodeCanonical } from '../wire-codec.js';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_HASH_LABEL } from './annotations.js';
import type { PodSpec } from './pod.js';

/** As long as Kubernetes' pod-template-hash values (10 characters). */
export const TEMPLATE_HASH_LENGTH = 10;

export interface HashableTemplate {
  metadata?: { labels?: Readonly<Record<string, string>>; annotations?: Readonly<Record<string, string>> };
  spec: PodSpec;
}

/**
 * The hash of `template` (a workload's pod template, after defaulting). The hash labels
 * themselves are left out, so hashing a template that already carries its label gives the
 * same value. `collisionCount` (a Deployment's status.collisionCount) varies the hash as
 * Kubernetes does when two templates collide.
 */
export function podTemplateHash(template: HashableTemplate, collisionCount?: number): string {
  const labels = { ...template.metadata?.labels };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  delete labels[CONTROLLER_REVISION_HASH_LABEL];
  const input = {
    metadata: { labels, annotations: { ...template.metadata?.annotations } },
    spec: template.spec,
    ...(collisionCount ? { collisionCount } : {}),
  };
  return createHash('sha256').update(encodeCanonical(input)).digest('hex').slice(0, TEMPLATE_HASH_LENGTH);
}

/** A bare Pod's template hash (no workload made it): its spec alone, so label edits never restart it. */
export function podSpecHash(spec: PodSpec): string {
  return podTemplateHash({ spec });
}
