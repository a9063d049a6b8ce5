/**
 * PURE: turns the scheduler's assignments and the apps they belong to into the pods a node must
 * run (the `pods` of its NodeTarget), and computes the template hash that identifies a version
 * of an app's pod template.
 */
import { createHash } from 'node:crypto';
import type { App, PodAssignment, PodTemplate } from '../core/model.js';
import type { ContainerTarget, PodTarget } from '../core/wire-types.js';
import { updatePolicyOrNone } from '../core/update-policy.js';
import { canonicalJson } from '../core/canonical-json.js';

export { canonicalJson };

/** sha256 hex (first 16 digits) of the canonical JSON of the app's pod template. */
export function templateHash(app: App): string {
  return createHash('sha256').update(canonicalJson(app.spec.template)).digest('hex').slice(0, 16);
}

function containerTarget(c: PodTemplate['containers'][number]): ContainerTarget {
  // Copy field by field: the wire message must not carry whatever extra members a stored
  // object may have picked up, and optional fields stay absent rather than undefined.
  const out: ContainerTarget = {
    name: c.name,
    image: c.image,
    env: c.env.map((e) => (e.valueFrom ? { name: e.name, value: e.value, valueFrom: structuredClone(e.valueFrom) } : { name: e.name, value: e.value })),
    resources: { ...c.resources },
  };
  if (c.command) out.command = [...c.command];
  if (c.args) out.args = [...c.args];
  if (c.workingDir !== undefined) out.workingDir = c.workingDir;
  // Behaviour-changing fields must reach the agent, never be dropped here (docs/manifests.md).
  if (c.imagePullPolicy !== undefined) out.imagePullPolicy = c.imagePullPolicy;
  // Only when set, so targets (and checksums) of containers without probes stay as they were.
  if (c.probes) out.probes = structuredClone(c.probes);
  if (c.privileged) out.privileged = true;
  if (c.seccompProfile) out.seccompProfile = { ...c.seccompProfile };
  if (c.volumeMounts?.length) out.volumeMounts = structuredClone(c.volumeMounts);
  if (c.envFrom?.length) out.envFrom = structuredClone(c.envFrom);
  if (c.ports?.length) out.ports = c.ports.map((p) => ({ ...p }));
  return out;
}

/** The pod template of an older revision of an app, when it is still known. */
export type OlderTemplate = (app: string, hash: string) => PodTemplate | undefined;

/** Apps by name with their template hash: computed once per plan, not once per node. */
export type AppIndex = ReadonlyMap<string, { app: App; hash: string }>;

export function indexApps(apps: readonly App[]): AppIndex {
  const byName = new Map<string, { app: App; hash: string }>();
  for (const app of apps) byName.set(app.meta.name, { app, hash: templateHash(app) });
  return byName;
}

/**
 * The pods `node` must run, sorted by name. A pod on an older template (mid-rollout) is
 * described from that template's revision; one whose template is no longer known at all, or
 * whose app is gone, is left out, and the agent stops what is not listed.
 */
export function buildNodePods(node: string, assignments: readonly PodAssignment[], apps: readonly App[] | AppIndex, olderTemplate?: OlderTemplate): PodTarget[] {
  const byName = Array.isArray(apps) ? indexApps(apps) : (apps as AppIndex);
  const pods: PodTarget[] = [];
  for (const a of assignments) {
    if (a.node !== node) continue;
    const entry = byName.get(a.app);
    if (!entry) continue;
    const t = entry.hash === a.templateHash ? entry.app.spec.template : olderTemplate?.(a.app, a.templateHash);
    if (!t) continue;
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
    // Bad values were refused at apply; one stored by an older server is dropped, not fatal.
    const update = updatePolicyOrNone(entry.app.meta.annotations, t.annotations);
    if (update) pod.update = update;
    if (t.devices?.length) pod.devices = t.devices.map((d) => ({ ...d }));
    if (t.supplementalGroups?.length) pod.supplementalGroups = [...t.supplementalGroups];
    if (t.volumes?.length) pod.volumes = structuredClone(t.volumes);
    if (t.initContainers?.length) pod.initContainers = t.initContainers.map(containerTarget);
    if (t.dependsOn?.length) pod.dependsOn = t.dependsOn.map((d) => ({ app: d.app, condition: d.condition }));
    // Job / CronJob settings travel with the pod: the agent runs them, also while offline.
    if (entry.app.spec.job) pod.job = { ...entry.app.spec.job };
    if (entry.app.spec.cron) pod.cron = { ...entry.app.spec.cron };
    pods.push(pod);
  }
  return pods.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

