/**
 * Kubernetes initContainers → the model's: the same container fields as containers (converted by
 * the caller), names unique across both lists (both become `<pod>_<name>` on the node), and no
 * probes (Kubernetes refuses them too: an init container's job is to end, not to be ready).
 */
import type { ContainerTemplate } from '../model.js';
import { manifestError, quote, type DocContext, type FieldPath } from './location.js';

interface K8sInit {
  name: string;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
}

export function initContainers<C extends K8sInit>(
  ctx: DocContext,
  specPath: FieldPath,
  list: readonly C[] | undefined,
  mains: readonly ContainerTemplate[],
  convert: (path: FieldPath, c: C) => ContainerTemplate,
): ContainerTemplate[] | undefined {
  if (!list?.length) return undefined;
  const taken = new Set(mains.map((c) => c.name));
  const seen = new Set<string>();
  return list.map((c, i) => {
    const path = [...specPath, 'initContainers', i];
    if (taken.has(c.name)) throw manifestError(ctx, [...path, 'name'], `${quote(c.name)} is also the name of a container of this pod`);
    if (seen.has(c.name)) throw manifestError(ctx, [...path, 'name'], `${quote(c.name)} is used by another init container of this pod`);
    seen.add(c.name);
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (c[probe] !== undefined) throw manifestError(ctx, [...path, probe], 'init containers cannot have probes (they run to completion)');
    }
    return convert(path, c);
  });
}
