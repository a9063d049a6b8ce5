/**
 * Validation of start order in a schema-1 target (Grove 0.1's wire, decoded by wire.ts only to
 * be converted to schema 2): a pod's init containers (each decoded like a main container by the
 * caller's decoder) and its compose depends_on. `dependencyCycle` is also the compose client's
 * cycle check (manifests/compose-objects.ts).
 */
import type { AppDependency } from './resolved-pod.js';
import type { FailField } from './wire-access.js';
import { quoteValue } from './quote.js';

/** As many init containers as a pod may have containers (wire.ts WIRE_LIMITS.containersPerPod). */
export const MAX_INIT_CONTAINERS = 32;
export const MAX_DEPENDENCIES = 64;
const CONDITIONS: readonly AppDependency['condition'][] = ['started', 'healthy', 'completed'];
const APP_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** A list of containers (or container statuses) decoded one by one with `item`; names must be unique. */
export function decodeInitList<T extends { name: string }>(v: unknown, path: string, fail: FailField, item: (v: unknown, path: string) => T): T[] {
  if (!Array.isArray(v)) return fail(path, 'expected an array');
  if (v.length > MAX_INIT_CONTAINERS) return fail(path, `more than ${MAX_INIT_CONTAINERS} init containers`);
  const seen = new Set<string>();
  return v.map((x, i) => {
    const out = item(x, `${path}[${i}]`);
    if (seen.has(out.name)) fail(`${path}[${i}].name`, `duplicate init container name ${quoteValue(out.name)}`);
    seen.add(out.name);
    return out;
  });
}

/** Init container names must differ from the main containers' (both are `<pod>_<name>` on the node). */
export function checkInitNames(inits: readonly { name: string }[], mains: readonly { name: string }[], path: string, fail: FailField): void {
  const mainNames = new Set(mains.map((c) => c.name));
  inits.forEach((c, i) => {
    if (mainNames.has(c.name)) fail(`${path}[${i}].name`, `${quoteValue(c.name)} is also the name of a container of this pod`);
  });
}

export function decodeDependsOn(v: unknown, path: string, fail: FailField): AppDependency[] {
  if (!Array.isArray(v)) return fail(path, 'expected an array');
  if (v.length > MAX_DEPENDENCIES) return fail(path, `more than ${MAX_DEPENDENCIES} dependencies`);
  const seen = new Set<string>();
  return v.map((d, i) => {
    const at = `${path}[${i}]`;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return fail(at, 'expected {app, condition}');
    const o = d as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'app' && k !== 'condition') fail(`${at}.${k}`, 'unknown field');
    if (typeof o.app !== 'string' || o.app.length > 253 || !APP_NAME.test(o.app)) return fail(`${at}.app`, 'expected an app name');
    if (!CONDITIONS.includes(o.condition as AppDependency['condition'])) return fail(`${at}.condition`, `expected one of ${CONDITIONS.join(', ')}`);
    if (seen.has(o.app)) fail(`${at}.app`, `${quoteValue(o.app)} is listed twice`);
    seen.add(o.app);
    return { app: o.app, condition: o.condition as AppDependency['condition'] };
  });
}

/** A pod's `initContainers` and `dependsOn`, each only when present (absent = none). */
export function decodeStartOrder<C extends { name: string }>(
  o: Record<string, unknown>,
  containers: readonly { name: string }[],
  path: string,
  fail: FailField,
  container: (v: unknown, path: string) => C,
): { initContainers?: C[]; dependsOn?: AppDependency[] } {
  const out: { initContainers?: C[]; dependsOn?: AppDependency[] } = {};
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (o.initContainers !== undefined && o.initContainers !== null) {
    out.initContainers = decodeInitList(o.initContainers, at('initContainers'), fail, container);
    checkInitNames(out.initContainers, containers, at('initContainers'), fail);
  }
  if (o.dependsOn !== undefined && o.dependsOn !== null) out.dependsOn = decodeDependsOn(o.dependsOn, at('dependsOn'), fail);
  return out;
}

/**
 * The first cycle of a dependency graph (name → the names it depends on) as "a → b → a", or
 * undefined. Pods in a cycle would wait for each other forever on a node that runs them all.
 */
export function dependencyCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of graph.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
