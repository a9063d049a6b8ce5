/**
 * PURE: whether two pod templates (or pod specs) make the same containers, by meaning rather
 * than by spelling. The controllers decide with it which ReplicaSet / ControllerRevision is a
 * Deployment's or DaemonSet's current template and whether a Job's pod still runs its template:
 * templates written in different spellings must not roll pods. They meet after an upgrade: the
 * 0.1 → objects migration writes 0.1's canonical forms (`docker.io/library/nginx:1.27`, `100m`,
 * `$(VAR)` already expanded, code defaults not applied) while the client now sends what the user
 * wrote (`nginx:1.27`, `0.1`, `$(VAR)`).
 *
 * Taken as equal:
 * - the code-only defaults (defaults.ts: imagePullPolicy by tag, requests from limits) present or not;
 * - image references naming the same image (image-ref.ts: `nginx` = `docker.io/library/nginx:latest`);
 * - quantities of the same value (resources, emptyDir.sizeLimit: `0.5` = `500m`, `1Gi` = `1024Mi`);
 * - a container whose `$(VAR)` references, expanded as 0.1 expanded them, give the other's text;
 * - grove.io/devices lists naming the same devices with the same permissions (`rwm` by default).
 * Everything else must be equal as data (key order ignored). `apply`'s "unchanged" stays textual
 * (kubectl semantics): only the controllers' matching uses this.
 */
import { canonicalJson } from '../canonical-json.js';
import { formatDeviceSpec, parseDeviceList } from '../device-spec.js';
import { formatImageRef, parseImageRef } from '../image-ref.js';
import { expandK8sVars } from '../manifests/k8s-expand.js';
import { parseK8sMemory } from '../manifests/k8s-quantity.js';
import { parseCpus } from '../quantity.js';
import { CONTROLLER_REVISION_HASH_LABEL, DEVICES_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from './annotations.js';
import { defaultPodSpec } from './defaults.js';
import type { Container, ResourceList } from './pod-container.js';
import type { PodSpec } from './pod.js';
import { parsePids, PIDS_RESOURCE } from './resources.js';

export interface ComparableTemplate {
  metadata?: { labels?: Readonly<Record<string, string>>; annotations?: Readonly<Record<string, string>> };
  spec: PodSpec;
}

type Json = Record<string, unknown>;

/** `parse(value)`, or the value as written when it does not parse (an invalid value only equals itself). */
function orAsWritten<T>(value: T, parse: (v: T) => unknown): unknown {
  try {
    return parse(value);
  } catch {
    return value;
  }
}

function canonicalImage(image: string): string {
  return orAsWritten(image, (i) => formatImageRef(parseImageRef(i))) as string;
}

const QUANTITY_VALUE: Readonly<Record<string, (v: string | number) => number>> = {
  memory: (v) => parseK8sMemory(v, 'memory'),
  // Millicores: 0.1 and 100m are both 100 (floating point never decides equality).
  cpu: (v) => Math.round(parseCpus(v, 'cpu') * 1000),
  [PIDS_RESOURCE]: (v) => parsePids(v, PIDS_RESOURCE),
};

function resourceValues(list: ResourceList | undefined): Json | undefined {
  if (!list) return undefined;
  const out: Json = {};
  for (const [name, value] of Object.entries(list)) {
    if (value === undefined) continue;
    const parse = QUANTITY_VALUE[name];
    out[name] = parse ? orAsWritten(value, parse) : value;
  }
  return out;
}

/** `c` with its env values, command and args expanded as 0.1's client expanded them (its own literal env, in order). */
function expandedVars(c: Container): Container {
  const known = new Map<string, string>();
  const out: Container = { ...c };
  if (c.env) {
    out.env = c.env.map((e) => {
      if (e.valueFrom) return e;
      const value = expandK8sVars(e.value ?? '', known);
      known.set(e.name, value);
      return { ...e, value };
    });
  }
  if (c.command) out.command = c.command.map((s) => expandK8sVars(s, known));
  if (c.args) out.args = c.args.map((s) => expandK8sVars(s, known));
  return out;
}

/** A container's comparable text: canonical image and quantities (defaults already applied). */
function containerText(c: Container): string {
  const out: Json = { ...c, image: canonicalImage(c.image) };
  if (c.resources) out.resources = { ...c.resources, limits: resourceValues(c.resources.limits), requests: resourceValues(c.resources.requests) };
  return canonicalJson(out);
}

function sameContainer(a: Container, b: Container): boolean {
  const [ta, tb] = [containerText(a), containerText(b)];
  return ta === tb || containerText(expandedVars(a)) === tb || ta === containerText(expandedVars(b));
}

function sameContainers(a: readonly Container[] | undefined, b: readonly Container[] | undefined): boolean {
  const [x, y] = [a ?? [], b ?? []];
  return x.length === y.length && x.every((c, i) => sameContainer(c, y[i]!));
}

/** The spec without its containers, quantities as values. */
function specRestText(spec: PodSpec): string {
  const { containers: _c, initContainers: _i, ...rest } = spec;
  const out: Json = { ...rest };
  if (spec.volumes) {
    out.volumes = spec.volumes.map((v) =>
      v.emptyDir?.sizeLimit !== undefined ? { ...v, emptyDir: { ...v.emptyDir, sizeLimit: orAsWritten(v.emptyDir.sizeLimit, (s) => parseK8sMemory(s, 'sizeLimit')) } } : v,
    );
  }
  return canonicalJson(out);
}

/** Whether two pod specs run the same containers the same way (see the module comment). */
export function samePodSpec(a: PodSpec, b: PodSpec): boolean {
  const [da, db] = [defaultPodSpec(a, 'pod'), defaultPodSpec(b, 'pod')];
  return specRestText(da) === specRestText(db) && sameContainers(da.containers, db.containers) && sameContainers(da.initContainers, db.initContainers);
}

function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  const out: Record<string, string> = { ...labels };
  delete out[POD_TEMPLATE_HASH_LABEL];
  delete out[CONTROLLER_REVISION_HASH_LABEL];
  return canonicalJson(out);
}

function annotationsText(annotations: Readonly<Record<string, string>> | undefined): string {
  const out: Record<string, string> = { ...annotations };
  const devices = out[DEVICES_ANNOTATION];
  if (devices !== undefined) {
    out[DEVICES_ANNOTATION] = orAsWritten(devices, (d) =>
      parseDeviceList(d, DEVICES_ANNOTATION)
        .map((m) => formatDeviceSpec({ ...m, permissions: [...m.permissions].sort().join('') }))
        .join(','),
    ) as string;
  }
  return canonicalJson(out);
}

/**
 * Whether two pod templates make the same pods: labels (the hash labels aside) and annotations
 * (grove.io/devices by meaning) as data, and samePodSpec.
 */
export function samePodTemplate(a: ComparableTemplate, b: ComparableTemplate): boolean {
  return (
    labelsText(a.metadata?.labels) === labelsText(b.metadata?.labels) &&
    annotationsText(a.metadata?.annotations) === annotationsText(b.metadata?.annotations) &&
    samePodSpec(a.spec, b.spec)
  );
}

/**
 * Of `candidates` (a workload's ReplicaSets or ControllerRevisions), the newest (`revisionOf`)
 * whose template is `wanted` by meaning. Newest: when two are equal by meaning (one made before
 * the controllers compared by meaning), the current one, holding the pods, stays current.
 */
export function findTemplate<T>(
  candidates: readonly T[],
  templateOf: (c: T) => ComparableTemplate | undefined,
  revisionOf: (c: T) => number,
  wanted: ComparableTemplate,
): T | undefined {
  const text = canonicalJson(wanted);
  // Newest first: in a steady pass the current one matches as data and nothing else is compared.
  const newestFirst = [...candidates].sort((a, b) => revisionOf(b) - revisionOf(a));
  return newestFirst.find((c) => {
    const t = templateOf(c);
    return t !== undefined && (canonicalJson(t) === text || samePodTemplate(t, wanted));
  });
}
