/**
 * Grove's extensions to Kubernetes objects: the `grove.io/...` annotations, their value rules,
 * and how readers turn them into settings. One module so that manifests, server and agent read
 * them one way. Kubernetes' own well-known labels and annotations Grove writes are here too.
 *
 * `checkGroveAnnotations` is strict (apply and the API refuse a bad value, naming the key);
 * `readGroveAnnotations` is lenient (a bad value an older server stored means "not set", so a
 * reader never fails a whole pass over one annotation).
 */
import { COMPOSE_NETWORKS_ANNOTATION, parseTopology } from '../network/compose-topology.js';
import { checkGroup, parseDeviceList, type DeviceMapping } from '../device-spec.js';
import { isGroveError } from '../errors.js';
import { parseDurationSeconds } from '../quantity.js';
import { quoteValue } from '../quote.js';
import { closestName } from './explain.js';
import { CONTAINER_OPTION_RULES, readContainerOptions, type ContainerOptions } from './container-options.js';
import {
  UPDATE_LOCK_MAX_ANNOTATION,
  UPDATE_WINDOW_ANNOTATION,
  UPDATE_WINDOW_DURATION_ANNOTATION,
  UPDATE_WINDOW_TIMEZONE_ANNOTATION,
  updatePolicyFromAnnotations,
  type UpdatePolicy,
} from '../update-policy.js';

export { UPDATE_LOCK_MAX_ANNOTATION, UPDATE_WINDOW_ANNOTATION, UPDATE_WINDOW_DURATION_ANNOTATION, UPDATE_WINDOW_TIMEZONE_ANNOTATION };

/** Host devices for every container of the pod, without privileged: "HOST[:CONTAINER][:rwm],…" (pod template). */
export const DEVICES_ANNOTATION = 'grove.io/devices';
/** Roll back to the last good revision when a rollout fails: "true" (default) or "false" (workload). */
export const AUTO_ROLLBACK_ANNOTATION = 'grove.io/auto-rollback';
/** Pods move off a NotReady node after this long ("90s", "10m"); default the server's --eviction-timeout. */
export const EVICTION_TIMEOUT_ANNOTATION = 'grove.io/eviction-timeout';
/** CPU architectures the pods may run on ("arm64" or "arm64,arm"); absent = any. */
export const ARCH_ANNOTATION = 'grove.io/arch';
/** Set on the pod template by `grove rollout restart` (an RFC 3339 time), as kubectl's restartedAt. */
export const RESTARTED_AT_ANNOTATION = 'grove.io/restartedAt';
/**
 * compose depends_on: same-node start order, "<workload>:<condition>,…" with condition
 * started, healthy or completed (pod template).
 */
export const DEPENDS_ON_ANNOTATION = 'grove.io/depends-on';
/**
 * Supplementary groups by name (compose group_add: "i2c,dialout"), resolved in the image's
 * /etc/group; numeric groups go to securityContext.supplementalGroups (pod template).
 */
export const GROUP_ADD_ANNOTATION = 'grove.io/group-add';
/** Where the object came from, for messages: "<format>:<file>#<document>" (compose:app.yml#1). */
export const SOURCE_ANNOTATION = 'grove.io/source';
/** Server-written, on a ReplicaSet: when its revision's rollout completed (where an automatic rollback goes). */
export const ROLLOUT_COMPLETE_ANNOTATION = 'grove.io/rollout-complete';
/** Server-written, on a Deployment: "revision 3 → 2 at <time>: <reason>", its last automatic rollback. */
/**
 * The name the node gives the pod's container (compose's container_name) instead of
 * `<pod key>_<container>`: what `grove ctr ps` shows. Pods with one container only.
 */
export const CONTAINER_NAME_ANNOTATION = 'grove.io/container-name';
/** Docker's rule for container names. */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
export const LAST_ROLLBACK_ANNOTATION = 'grove.io/last-rollback';
/** The controllers' own bookkeeping: valid on objects, never sent to nodes (it changes nothing there). */
const SERVER_ONLY_ANNOTATIONS: ReadonlySet<string> = new Set([ROLLOUT_COMPLETE_ANNOTATION, LAST_ROLLBACK_ANNOTATION]);

/** Kubernetes' well-known keys Grove writes. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
export const DEPLOYMENT_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** What compose labels its containers with; Grove labels the objects a compose file becomes. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

export const DEPENDENCY_CONDITIONS = ['started', 'healthy', 'completed'] as const;
export interface PodDependency {
  /** The workload (in the pod's namespace) whose pods on the same node must be … */
  app: string;
  condition: (typeof DEPENDENCY_CONDITIONS)[number];
}

const MAX_DEPENDENCIES = 64;
const MAX_GROUP_NAMES = 32;
const WORKLOAD_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ARCH = /^[a-z0-9_]{1,16}$/;
const SOURCE = /^(kubernetes|compose):([^#]{0,4096})(?:#([1-9][0-9]{0,5}))?$/;

/** Throws a message (without the key) when `value` is not a dependency list. */
export function parseDependsOn(value: string): PodDependency[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length > MAX_DEPENDENCIES) throw new Error(`more than ${MAX_DEPENDENCIES} dependencies`);
  const seen = new Set<string>();
  return items.map((item) => {
    const [app = '', condition = 'started', ...rest] = item.split(':');
    if (rest.length > 0 || app.length > 253 || !WORKLOAD_NAME.test(app)) throw new Error(`${quoteValue(item)} is not <workload>[:started|healthy|completed]`);
    if (!(DEPENDENCY_CONDITIONS as readonly string[]).includes(condition)) throw new Error(`${quoteValue(item)}: the condition must be started, healthy or completed`);
    if (seen.has(app)) throw new Error(`${quoteValue(app)} is listed twice`);
    seen.add(app);
    return { app, condition: condition as PodDependency['condition'] };
  });
}

export function formatDependsOn(deps: readonly PodDependency[]): string {
  return deps.map((d) => `${d.app}:${d.condition}`).join(',');
}

function parseGroupNames(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length > MAX_GROUP_NAMES) throw new Error(`more than ${MAX_GROUP_NAMES} groups`);
  return names.map((g) => checkGroup(g, GROUP_ADD_ANNOTATION));
}

function parseArchList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0 || list.some((a) => !ARCH.test(a))) throw new Error(`${quoteValue(value)} is not a list of architectures such as "arm64" or "arm64,arm"`);
  return list;
}

export interface ResourceSource {
  format: 'kubernetes' | 'compose';
  file?: string;
  document?: number;
}

export function parseSource(value: string): ResourceSource {
  const m = SOURCE.exec(value);
  if (!m) throw new Error(`${quoteValue(value)} is not <kubernetes|compose>:<file>[#<document>]`);
  return { format: m[1] as ResourceSource['format'], ...(m[2] ? { file: m[2] } : {}), ...(m[3] ? { document: Number(m[3]) } : {}) };
}

export function formatSource(s: ResourceSource): string {
  return `${s.format}:${s.file ?? ''}${s.document !== undefined ? `#${s.document}` : ''}`;
}

/** The message of a rule's failure without the key it would repeat ("annotation grove.io/x: …"). */
function reason(err: unknown, key: string): string {
  if (!(err instanceof Error)) throw err;
  for (const prefix of [`annotation ${key}: `, `${key}: `]) if (err.message.startsWith(prefix)) return err.message.slice(prefix.length);
  return err.message;
}

type Check = (value: string) => void;

const duration: Check = (v) => {
  parseDurationSeconds(v, 'value');
};

/** Each known key's value rule (throws a message). The update-window keys are checked together below. */
const RULES: Readonly<Record<string, Check>> = Object.freeze({
  [DEVICES_ANNOTATION]: (v) => void parseDeviceList(v, DEVICES_ANNOTATION),
  [AUTO_ROLLBACK_ANNOTATION]: (v) => {
    if (v !== 'true' && v !== 'false') throw new Error(`must be "true" or "false", got ${quoteValue(v)}`);
  },
  [EVICTION_TIMEOUT_ANNOTATION]: (v) => {
    try {
      duration(v);
    } catch {
      throw new Error(`${quoteValue(v)} is not a duration (use e.g. 90s, 5m)`);
    }
  },
  [ARCH_ANNOTATION]: (v) => void parseArchList(v),
  [RESTARTED_AT_ANNOTATION]: () => undefined,
  [DEPENDS_ON_ANNOTATION]: (v) => void parseDependsOn(v),
  [GROUP_ADD_ANNOTATION]: (v) => void parseGroupNames(v),
  [SOURCE_ANNOTATION]: (v) => void parseSource(v),
  [UPDATE_WINDOW_ANNOTATION]: () => undefined,
  [UPDATE_WINDOW_DURATION_ANNOTATION]: () => undefined,
  [UPDATE_WINDOW_TIMEZONE_ANNOTATION]: () => undefined,
  [UPDATE_LOCK_MAX_ANNOTATION]: () => undefined,
  [ROLLOUT_COMPLETE_ANNOTATION]: () => undefined,
  [CONTAINER_NAME_ANNOTATION]: (v) => {
    if (!CONTAINER_NAME.test(v)) throw new Error(`${quoteValue(v.slice(0, 80))} must be a container name: at most 128 letters, digits, '_', '.' and '-', starting with a letter or digit`);
  },
  [LAST_ROLLBACK_ANNOTATION]: () => undefined,
  // Written by the compose translation; the node isolates compose networks by it (compose-isolation.ts).
  [COMPOSE_NETWORKS_ANNOTATION]: (v) => {
    if (!parseTopology(v)) throw new Error(`${quoteValue(v.slice(0, 80))} must be SERVICE=NETWORK[,NETWORK…] entries joined by ";"`);
  },
  // ulimits, init, stop signal, log caps (container-options.ts).
  ...CONTAINER_OPTION_RULES,
});

export const GROVE_ANNOTATION_KEYS: readonly string[] = Object.freeze(Object.keys(RULES).sort());

export interface AnnotationProblem {
  /** Index of the annotation block in the caller's list (e.g. 0: the workload's, 1: its template's). */
  source: number;
  key: string;
  reason: string;
}

/** The known key an unknown grove.io/ key most likely meant (at most 3 edits away), if any. */
export function nearGroveAnnotation(key: string): string | undefined {
  if (!key.startsWith('grove.io/') || RULES[key]) return undefined;
  return closestName(key, GROVE_ANNOTATION_KEYS, 3);
}

/**
 * Every problem of the grove.io/ annotations of the metadata `blocks` of one object (its own,
 * its pod template's): bad values of known keys, unknown keys that are a near miss of a known
 * one (a typo would otherwise do nothing), and the update window read across the blocks, as
 * the agent reads it. Other unknown keys are the user's own and pass.
 */
export function checkGroveAnnotations(...blocks: readonly (Readonly<Record<string, string>> | undefined)[]): AnnotationProblem[] {
  const problems: AnnotationProblem[] = [];
  blocks.forEach((annotations, source) => {
    for (const [key, value] of Object.entries(annotations ?? {})) {
      const rule = RULES[key];
      if (!rule) {
        const near = nearGroveAnnotation(key);
        if (near) problems.push({ source, key, reason: `unknown Grove annotation (did you mean ${near}?)` });
        continue;
      }
      try {
        rule(value);
      } catch (err) {
        problems.push({ source, key, reason: reason(err, key) });
      }
    }
  });
  try {
    updatePolicyFromAnnotations(...blocks.map((b) => ({ ...b })));
  } catch (err) {
    const key = isGroveError(err) && typeof err.details.annotation === 'string' ? err.details.annotation : UPDATE_WINDOW_ANNOTATION;
    const source = Math.max(0, blocks.findIndex((b) => b?.[key] !== undefined));
    problems.push({ source, key, reason: reason(err, key) });
  }
  return problems;
}

/** What the annotations of a pod (its own first, then its owner's) ask of Grove. */
export interface GroveSettings {
  update?: UpdatePolicy;
  devices?: DeviceMapping[];
  dependsOn?: PodDependency[];
  groupNames?: string[];
  /** Default true. */
  autoRollback: boolean;
  evictionTimeoutSeconds?: number;
  arch?: string[];
  /** grove.io/ulimits, init, stop-signal, log-max-size, log-max-file. */
  container?: ContainerOptions;
}

function lenient<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The settings the annotation `sources` give, the first source that has a key winning (pass the
 * pod template's, then the workload's). A value that does not parse counts as absent.
 */
export function readGroveAnnotations(...sources: readonly (Readonly<Record<string, string>> | undefined)[]): GroveSettings {
  const present = sources.filter((s): s is Readonly<Record<string, string>> => s !== undefined);
  const get = (key: string): string | undefined => present.find((s) => s[key] !== undefined)?.[key];
  const out: GroveSettings = { autoRollback: get(AUTO_ROLLBACK_ANNOTATION) !== 'false' };
  const update = lenient(() => updatePolicyFromAnnotations(...present.map((s) => ({ ...s }))));
  if (update) out.update = update;
  const devices = get(DEVICES_ANNOTATION);
  const deviceList = devices === undefined ? undefined : lenient(() => parseDeviceList(devices, DEVICES_ANNOTATION));
  if (deviceList?.length) out.devices = deviceList;
  const deps = get(DEPENDS_ON_ANNOTATION);
  const depList = deps === undefined ? undefined : lenient(() => parseDependsOn(deps));
  if (depList?.length) out.dependsOn = depList;
  const groups = get(GROUP_ADD_ANNOTATION);
  const groupList = groups === undefined ? undefined : lenient(() => parseGroupNames(groups));
  if (groupList?.length) out.groupNames = groupList;
  const eviction = get(EVICTION_TIMEOUT_ANNOTATION);
  const seconds = eviction === undefined ? undefined : lenient(() => parseDurationSeconds(eviction, EVICTION_TIMEOUT_ANNOTATION));
  if (seconds !== undefined) out.evictionTimeoutSeconds = seconds;
  const arch = get(ARCH_ANNOTATION);
  const archList = arch === undefined ? undefined : lenient(() => parseArchList(arch));
  if (archList) out.arch = archList;
  const container = readContainerOptions(get);
  if (Object.keys(container).length > 0) out.container = container;
  return out;
}

/** The grove.io/ annotations of `annotations` (what a node target carries of a pod's). */
export function groveAnnotationsOf(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) if (k.startsWith('grove.io/') && !SERVER_ONLY_ANNOTATIONS.has(k)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}
