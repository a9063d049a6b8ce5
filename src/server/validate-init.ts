/**
 * API validation of a pod template's start order: initContainers (checked like containers, by
 * the caller's checker) and dependsOn (compose depends_on). The wire's decoders do the field
 * work (core/wire-init.ts), so what the API accepts a node accepts; the rules here are those of
 * an app as a whole.
 */
import type { App, ContainerTemplate, PodTemplate } from '../core/model.js';
import { decodeStartOrder, dependencyCycle } from '../core/wire-init.js';
import { invalid, type Obj } from './validate-primitives.js';

const failInvalid = (field: string, reason: string): never => {
  throw invalid(field, reason);
};

/** The template's initContainers and dependsOn, each only when given (so other templates hash as before). */
export function startOrderFields(
  o: Obj,
  containers: readonly ContainerTemplate[],
  path: string,
  container: (v: unknown, path: string) => ContainerTemplate,
): Pick<PodTemplate, 'initContainers' | 'dependsOn'> {
  const out = decodeStartOrder(o, containers, path, failInvalid, container);
  out.initContainers?.forEach((c, i) => {
    // Kubernetes refuses them too: an init container's job is to end, not to be ready.
    if (c.probes) throw invalid(`${path}.initContainers[${i}].probes`, 'init containers cannot have probes');
  });
  if (out.initContainers?.length === 0) delete out.initContainers;
  if (out.dependsOn?.length === 0) delete out.dependsOn;
  return out;
}

/** Rules that need the app's kind and name: no init containers on Job pods, no dependency on itself. */
export function checkStartOrder(app: App, path: string): void {
  const t = app.spec.template;
  if (t.initContainers && (app.spec.kind === 'Job' || app.spec.kind === 'CronJob')) {
    throw invalid(`${path}.spec.template.initContainers`, `are not supported on ${app.spec.kind} pods yet`);
  }
  t.dependsOn?.forEach((d, i) => {
    if (d.app === app.meta.name) throw invalid(`${path}.spec.template.dependsOn[${i}].app`, 'an app cannot depend on itself');
  });
}

/** Refuses an apply whose apps depend on each other in a cycle. */
export function checkDependencyCycles(resources: readonly { kind: string; meta: { name: string }; spec?: unknown }[]): void {
  const graph = new Map(resources.flatMap((r) => (r.kind === 'App' ? [[r.meta.name, ((r as App).spec.template.dependsOn ?? []).map((d) => d.app)] as const] : [])));
  const cycle = dependencyCycle(graph);
  if (cycle) throw invalid('resources', `dependsOn forms a cycle: ${cycle.join(' → ')}`);
}
