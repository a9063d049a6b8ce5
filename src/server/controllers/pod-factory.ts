/**
 * PURE: a new Pod of a workload's template, as Kubernetes' controllers make them: named
 * `<prefix>-<5 random chars>`, the template's labels and annotations, one controller owner
 * reference, the template's spec (nodeName only when a DaemonSet binds it itself).
 */
import type { PodTemplateSpec } from '../../core/objects/pod.js';
import { controllerRef, namespaceOf, type NameSource, type Pod } from './object-kit.js';

export interface NewPod {
  owner: { kind: string; metadata: unknown };
  template: PodTemplateSpec;
  names: NameSource;
  /** Name prefix; the owner's name by default. */
  prefix?: string;
  /** The pod's exact name instead of a generated one (a StatefulSet's <name>-<ordinal>). */
  name?: string;
  /** Labels added to the template's (DaemonSet: controller-revision-hash; Job: job-name …). */
  labels?: Record<string, string>;
  nodeName?: string;
}

export function newPod(p: NewPod): Pod {
  const owner = p.owner as { metadata: { name: string } };
  const labels = { ...p.template.metadata?.labels, ...p.labels };
  const annotations = p.template.metadata?.annotations;
  const spec = structuredClone(p.template.spec);
  if (p.nodeName !== undefined) spec.nodeName = p.nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name ?? p.names.next(namespaceOf(p.owner), p.prefix ?? owner.metadata.name),
      namespace: namespaceOf(p.owner),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
      ownerReferences: [controllerRef(p.owner)],
    },
    spec,
  };
}
