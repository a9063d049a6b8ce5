/**
 * PURE: turns the scheduler's assignments and the apps they belong to into the pods a node must
 * run (the `pods` of its NodeTarget), and computes the template hash that identifies a version
 * of an app's pod template.
 */
import { createHash } from 'node:crypto';
import type { App, PodAssignment } from '../core/model.js';
import type { ContainerTarget, PodTarget } from '../core/wire-types.js';

/**
 * JSON with object keys sorted at every level, so that two equal values always give the same
 * text whatever order their keys were built in (manifest parsers, CBOR round trips, spreads).
 * `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256 hex (first 16 digits) of the canonical JSON of the app's pod template. */
export function templateHash(app: App): string {
  return createHash('sha256').update(canonicalJson(app.spec.template)).digest('hex').slice(0, 16);
}

function containerTarget(c: App['spec']['template']['containers'][number]): ContainerTarget {
  // Copy field by field: the wire message must not carry whatever extra members a stored
  // object may have picked up, and optional fields stay absent rather than undefined.
  const out: ContainerTarget = {
    name: c.name,
    image: c.image,
    env: c.env.map((e) => ({ name: e.name, value: e.value })),
    resources: { ...c.resources },
  };
  if (c.command) out.command = [...c.command];
  if (c.args) out.args = [...c.args];
  if (c.workingDir !== undefined) out.workingDir = c.workingDir;
  // Behaviour-changing fields must reach the agent, never be dropped here (docs/manifests.md).
  if (c.imagePullPolicy !== undefined) out.imagePullPolicy = c.imagePullPolicy;
  // Only when set, so targets (and checksums) of containers without probes stay as they were.
  if (c.probes) out.probes = structuredClone(c.probes);
  return out;
}

/** Apps by name with their template hash: computed once per plan, not once per node. */
export type AppIndex = ReadonlyMap<string, { app: App; hash: string }>;

export function indexApps(apps: readonly App[]): AppIndex {
  const byName = new Map<string, { app: App; hash: string }>();
  for (const app of apps) byName.set(app.meta.name, { app, hash: templateHash(app) });
  return byName;
}

/**
 * The pods `node` must run, sorted by name. An assignment whose template hash is not the app's
 * current one is left out: only the current template is known, so an outdated pod cannot be
 * described; the scheduler replaces such pods anyway (and the agent stops what is not listed).
 * Assignments of apps that no longer exist are left out for the same reason.
 */
export function buildNodePods(node: string, assignments: readonly PodAssignment[], apps: readonly App[] | AppIndex): PodTarget[] {
  const byName = Array.isArray(apps) ? indexApps(apps) : (apps as AppIndex);
  const pods: PodTarget[] = [];
  for (const a of assignments) {
    if (a.node !== node) continue;
    const entry = byName.get(a.app);
    if (!entry || entry.hash !== a.templateHash) continue;
    const t = entry.app.spec.template;
    const pod: PodTarget = {
      name: a.meta.name,
      app: a.app,
      templateHash: a.templateHash,
      restartPolicy: t.restartPolicy,
      hostNetwork: t.hostNetwork,
      containers: t.containers.map(containerTarget),
    };
    // Only when set, so targets of templates without it (and their checksums) stay as they were.
    if (t.terminationGracePeriodSeconds !== undefined) pod.terminationGracePeriodSeconds = t.terminationGracePeriodSeconds;
    pods.push(pod);
  }
  return pods.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
