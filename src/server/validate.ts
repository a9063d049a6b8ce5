/**
 * Shape validation of resources arriving over the API. The CLI validated them already, but the
 * API is an outside input: anything can POST to it. Every check names the field path
 * ("resources[1].spec.template.containers[0].image: …") and returns a fresh object holding only
 * known fields, so nothing unexpected reaches the store or the template hash.
 */
import { ErrorCode, GroveError } from '../core/errors.js';
import { formatImageRef, parseImageRef } from '../core/image-ref.js';
import { parseDurationSeconds } from '../core/quantity.js';
import { isValidName } from '../core/topics.js';
import { decodeCronSpec, decodeJobSpec } from '../core/wire-jobs.js';
import { EVICTION_TIMEOUT_ANNOTATION } from './scheduler.js';
import { updatePolicyFromAnnotations } from '../core/update-policy.js';
import type {
  App,
  AppliedResource,
  ConfigMap,
  ContainerResources,
  ContainerTemplate,
  EnvVar,
  PodTemplate,
  ResourceMeta,
  ResourceSource,
  Secret,
} from '../core/model.js';

export const MAX_RESOURCES_PER_APPLY = 1000;
const MAX_CONTAINERS = 32;
const MAX_REPLICAS = 10_000;
const MAX_LIST = 1000;
const MAX_STRING = 64 * 1024;
const MAX_DATA_VALUE = 1024 * 1024;

import { bool, describe, int, invalid, isObj, obj, onlyKeys, str, strList, type Obj } from './validate-primitives.js';
import { rolloutFields } from './validate-rollout.js';
import { configFields } from './validate-config.js';
import { decodeProbes } from '../core/wire-probes.js';
import { decodeDevices, decodeGroups, decodePrivileged } from '../core/wire-access.js';
import { decodeSeccompProfile } from '../core/seccomp-ref.js';
import { containerVolumeFields, envValueFrom, templateVolumeFields } from './validate-volumes.js';
import { checkDependencyCycles, checkStartOrder, startOrderFields } from './validate-init.js';
import { checkTemplateHostPorts, containerPorts } from './validate-ports.js';
import { clipText, quoteValue } from '../core/quote.js';

export { invalid };

export function name(v: unknown, path: string): string {
  if (!isValidName(v)) {
    throw invalid(path, `${typeof v === 'string' ? quoteValue(v) : describe(v)} is not a valid name (1-63 lowercase letters, digits and '-', starting and ending with a letter or digit)`);
  }
  return v;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Kubernetes label/annotation key syntax: [prefix/]name. */
export function labelKey(k: string, path: string): string {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const rest = slash >= 0 ? k.slice(slash + 1) : k;
  if (!LABEL_NAME.test(rest) || (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))) {
    throw invalid(`${path}.${clipText(k)}`, 'invalid key (use [prefix/]name: letters, digits, "-", "_", "." up to 63 characters)');
  }
  return k;
}

export function labelValue(v: unknown, path: string): string {
  const s = str(v, path, 63);
  if (!LABEL_VALUE.test(s)) throw invalid(path, `${quoteValue(s)} is not a valid label value (up to 63 letters, digits, "-", "_", ".")`);
  return s;
}

/** A string map; `kind` picks the rules for keys and values. Absent → {}. */
function stringMap(v: unknown, path: string, kind: 'labels' | 'annotations' | 'data'): Record<string, string> {
  if (v === undefined) return {};
  const o = obj(v, path);
  const entries = Object.entries(o);
  if (entries.length > MAX_LIST) throw invalid(path, `more than ${MAX_LIST} entries`);
  const out: Record<string, string> = {};
  for (const [k, value] of entries) {
    let val: string;
    if (kind === 'data') {
      if (!/^[-._a-zA-Z0-9]{1,253}$/.test(k)) throw invalid(`${path}.${clipText(k)}`, 'invalid key (letters, digits, "-", "_", "." up to 253 characters)');
      val = str(value, `${path}.${k}`, MAX_DATA_VALUE);
    } else {
      labelKey(k, path);
      val = kind === 'labels' ? labelValue(value, `${path}.${k}`) : str(value, `${path}.${k}`);
    }
    // defineProperty: a "__proto__" key stays an ordinary key instead of changing the prototype.
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function source(v: unknown, path: string): ResourceSource | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, path, ['format', 'file', 'document']);
  if (o.format !== 'kubernetes' && o.format !== 'compose') throw invalid(`${path}.format`, 'expected "kubernetes" or "compose"');
  return {
    format: o.format,
    ...(o.file !== undefined ? { file: str(o.file, `${path}.file`, 4096) } : {}),
    ...(o.document !== undefined ? { document: int(o.document, `${path}.document`, 1, 100_000) } : {}),
  };
}

function meta(v: unknown, path: string): ResourceMeta {
  const o = obj(v, path);
  // revision/createdAt/updatedAt are the server's to set; accepted (a resource read back from
  // the API can be applied again) and ignored.
  onlyKeys(o, path, ['name', 'labels', 'annotations', 'source', 'revision', 'createdAt', 'updatedAt']);
  const src = source(o.source, `${path}.source`);
  return {
    name: name(o.name, `${path}.name`),
    labels: stringMap(o.labels, `${path}.labels`, 'labels'),
    annotations: stringMap(o.annotations, `${path}.annotations`, 'annotations'),
    ...(src ? { source: src } : {}),
  };
}

function envVar(v: unknown, path: string): EnvVar {
  const o = obj(v, path);
  onlyKeys(o, path, ['name', 'value', 'valueFrom']);
  const n = str(o.name, `${path}.name`, 1024);
  if (n.length === 0 || n.includes('=')) throw invalid(`${path}.name`, 'must be non-empty and must not contain "="');
  const out: EnvVar = { name: n, value: str(o.value ?? '', `${path}.value`) };
  envValueFrom(o, out, path);
  return out;
}

function resources(v: unknown, path: string): ContainerResources {
  if (v === undefined) return {};
  const o = obj(v, path);
  onlyKeys(o, path, ['memoryBytes', 'cpus', 'pidsLimit', 'requestMemoryBytes', 'requestCpus']);
  const out: ContainerResources = {};
  if (o.memoryBytes !== undefined) out.memoryBytes = int(o.memoryBytes, `${path}.memoryBytes`, 1, Number.MAX_SAFE_INTEGER);
  if (o.requestMemoryBytes !== undefined) out.requestMemoryBytes = int(o.requestMemoryBytes, `${path}.requestMemoryBytes`, 0, Number.MAX_SAFE_INTEGER);
  if (o.pidsLimit !== undefined) out.pidsLimit = int(o.pidsLimit, `${path}.pidsLimit`, -1, 4_194_304);
  if (o.cpus !== undefined) {
    if (typeof o.cpus !== 'number' || !Number.isFinite(o.cpus) || o.cpus <= 0 || o.cpus > 1024) {
      throw invalid(`${path}.cpus`, 'expected a number of cores above 0');
    }
    out.cpus = o.cpus;
  }
  if (o.requestCpus !== undefined) {
    if (typeof o.requestCpus !== 'number' || !Number.isFinite(o.requestCpus) || o.requestCpus < 0 || o.requestCpus > 1024) {
      throw invalid(`${path}.requestCpus`, 'expected a number of cores, 0 or more');
    }
    out.requestCpus = o.requestCpus;
  }
  return out;
}

function container(v: unknown, path: string): ContainerTemplate {
  const o = obj(v, path);
  onlyKeys(o, path, ['name', 'image', 'command', 'args', 'env', 'workingDir', 'resources', 'imagePullPolicy', 'probes', 'privileged', 'seccompProfile', 'volumeMounts', 'envFrom', 'ports']);
  const image = str(o.image, `${path}.image`, 1024);
  let canonicalImage: string;
  try {
    canonicalImage = formatImageRef(parseImageRef(image));
  } catch (err) {
    throw invalid(`${path}.image`, err instanceof Error ? err.message : String(err));
  }
  const env = o.env === undefined ? [] : o.env;
  if (!Array.isArray(env)) throw invalid(`${path}.env`, `expected an array, got ${describe(env)}`);
  if (env.length > MAX_LIST) throw invalid(`${path}.env`, `more than ${MAX_LIST} items`);
  const out: ContainerTemplate = {
    name: name(o.name, `${path}.name`),
    image: canonicalImage,
    env: env.map((e, i) => envVar(e, `${path}.env[${i}]`)),
    resources: resources(o.resources, `${path}.resources`),
  };
  if (o.command !== undefined) out.command = strList(o.command, `${path}.command`);
  if (o.args !== undefined) out.args = strList(o.args, `${path}.args`);
  if (o.workingDir !== undefined) {
    const wd = str(o.workingDir, `${path}.workingDir`, 4096);
    if (!wd.startsWith('/')) throw invalid(`${path}.workingDir`, 'must be an absolute path');
    out.workingDir = wd;
  }
  if (o.imagePullPolicy !== undefined) {
    if (o.imagePullPolicy !== 'Always' && o.imagePullPolicy !== 'IfNotPresent' && o.imagePullPolicy !== 'Never') {
      throw invalid(`${path}.imagePullPolicy`, 'expected Always, IfNotPresent or Never');
    }
    out.imagePullPolicy = o.imagePullPolicy;
  }
  // The agent's decoder, so that what the API accepts is exactly what a node accepts.
  if (o.probes !== undefined) out.probes = decodeProbes(o.probes, `${path}.probes`, failInvalid);
  if (decodePrivileged(o.privileged, `${path}.privileged`, failInvalid)) out.privileged = true;
  const seccomp = o.seccompProfile === undefined ? undefined : decodeSeccompProfile(o.seccompProfile, `${path}.seccompProfile`, failInvalid);
  if (seccomp) out.seccompProfile = seccomp;
  containerVolumeFields(o, out, path);
  const ports = containerPorts(o.ports, `${path}.ports`);
  if (ports?.length) out.ports = ports;
  return out;
}

function template(v: unknown, path: string): PodTemplate {
  const o = obj(v, path);
  onlyKeys(o, path, ['labels', 'annotations', 'nodeSelector', 'restartPolicy', 'hostNetwork', 'terminationGracePeriodSeconds', 'containers', 'devices', 'supplementalGroups', 'volumes', 'initContainers', 'dependsOn']);
  const policy = o.restartPolicy ?? 'Always';
  if (policy !== 'Always' && policy !== 'OnFailure' && policy !== 'Never') {
    throw invalid(`${path}.restartPolicy`, 'expected Always, OnFailure or Never');
  }
  if (!Array.isArray(o.containers) || o.containers.length === 0) throw invalid(`${path}.containers`, 'at least one container is required');
  if (o.containers.length > MAX_CONTAINERS) throw invalid(`${path}.containers`, `more than ${MAX_CONTAINERS} containers`);
  const containers = o.containers.map((c, i) => container(c, `${path}.containers[${i}]`));
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    if (seen.has(c.name)) throw invalid(`${path}.containers[${i}].name`, `duplicate container name ${quoteValue(c.name)}`);
    seen.add(c.name);
  });
  checkTemplateHostPorts(containers, `${path}.containers`);
  const out: PodTemplate = {
    labels: stringMap(o.labels, `${path}.labels`, 'labels'),
    annotations: stringMap(o.annotations, `${path}.annotations`, 'annotations'),
    nodeSelector: stringMap(o.nodeSelector, `${path}.nodeSelector`, 'labels'),
    restartPolicy: policy,
    hostNetwork: bool(o.hostNetwork, `${path}.hostNetwork`, false),
    containers,
  };
  // Only set when given, so templates without it keep their hash.
  if (o.terminationGracePeriodSeconds !== undefined) {
    out.terminationGracePeriodSeconds = int(o.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`, 0, 3600);
  }
  if (o.devices !== undefined) out.devices = decodeDevices(o.devices, `${path}.devices`, failInvalid);
  if (o.supplementalGroups !== undefined) out.supplementalGroups = decodeGroups(o.supplementalGroups, `${path}.supplementalGroups`, failInvalid);
  templateVolumeFields(o, out, path);
  Object.assign(out, startOrderFields(o, containers, path, container));
  return out;
}

function app(o: Obj, path: string): App {
  onlyKeys(o, path, ['kind', 'meta', 'spec', 'generation']);
  const spec = obj(o.spec, `${path}.spec`);
  onlyKeys(spec, `${path}.spec`, ['kind', 'replicas', 'template', 'strategy', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'autoRollback', 'job', 'cron']);
  if (!['Deployment', 'DaemonSet', 'Job', 'CronJob'].includes(spec.kind as string)) {
    throw invalid(`${path}.spec.kind`, 'expected Deployment, DaemonSet, Job or CronJob');
  }
  const out: App = {
    kind: 'App',
    meta: meta(o.meta, `${path}.meta`),
    spec: { kind: spec.kind as App['spec']['kind'], template: template(spec.template, `${path}.spec.template`), ...rolloutFields(spec, `${path}.spec`) },
  };
  batchFields(out, spec, path);
  checkStartOrder(out, path);
  // Checked here so a typo fails the apply instead of silently meaning the server's default.
  for (const [where, annotations] of [['meta', out.meta.annotations], ['spec.template', out.spec.template.annotations]] as const) {
    const timeout = annotations[EVICTION_TIMEOUT_ANNOTATION];
    if (timeout === undefined) continue;
    try {
      parseDurationSeconds(timeout, EVICTION_TIMEOUT_ANNOTATION);
    } catch {
      throw invalid(`${path}.${where}.annotations[${quoteValue(EVICTION_TIMEOUT_ANNOTATION)}]`, `${quoteValue(timeout)} is not a duration (use e.g. 90s, 5m)`);
    }
  }
  // Update window / lock annotations: a bad cron or duration fails the apply, naming the annotation.
  try {
    updatePolicyFromAnnotations(out.meta.annotations, out.spec.template.annotations);
  } catch (err) {
    throw invalid(`${path}.meta.annotations`, err instanceof Error ? err.message : String(err));
  }
  // A DaemonSet has no replica count: one pod per eligible node.
  if (spec.kind === 'Deployment') out.spec.replicas = spec.replicas === undefined ? 1 : int(spec.replicas, `${path}.spec.replicas`, 0, MAX_REPLICAS);
  return out;
}

const failInvalid = (field: string, reason: string): never => {
  throw invalid(field, reason);
};

/** Job / CronJob specs (checked like the wire's), and the Kubernetes rule on their restartPolicy. */
function batchFields(out: App, spec: Obj, path: string): void {
  const kind = out.spec.kind;
  const batch = kind === 'Job' || kind === 'CronJob';
  if (!batch && (spec.job !== undefined || spec.cron !== undefined)) throw invalid(`${path}.spec`, `job and cron are for Job and CronJob, not ${kind}`);
  if (!batch) return;
  if (out.spec.template.restartPolicy === 'Always') throw invalid(`${path}.spec.template.restartPolicy`, 'must be OnFailure or Never for a Job');
  out.spec.job = decodeJobSpec(spec.job, `${path}.spec.job`, failInvalid);
  if (kind === 'CronJob') out.spec.cron = decodeCronSpec(spec.cron, `${path}.spec.cron`, failInvalid);
  else if (spec.cron !== undefined) throw invalid(`${path}.spec.cron`, 'only a CronJob has a schedule');
}

function dataResource<K extends 'ConfigMap' | 'Secret'>(kind: K, o: Obj, path: string): ConfigMap | Secret {
  onlyKeys(o, path, ['kind', 'meta', 'data', 'type', 'immutable']);
  const out = { kind, meta: meta(o.meta, `${path}.meta`), data: stringMap(o.data, `${path}.data`, 'data') } as ConfigMap | Secret;
  configFields(out, o, path);
  return out;
}

/** Validates one resource; `path` prefixes error messages (e.g. "resources[2]"). */
export function validateResource(v: unknown, path: string): AppliedResource {
  const o = obj(v, path);
  switch (o.kind) {
    case 'App':
      return app(o, path);
    case 'ConfigMap':
    case 'Secret':
      return dataResource(o.kind, o, path);
    default:
      throw invalid(`${path}.kind`, `unknown kind ${typeof o.kind === 'string' ? quoteValue(o.kind) : describe(o.kind)} (expected App, ConfigMap or Secret)`);
  }
}

/** Validates an apply request's list; duplicates (same kind and name) are an error too. */
export function validateResources(v: unknown): AppliedResource[] {
  if (!Array.isArray(v)) throw invalid('resources', `expected an array, got ${describe(v)}`);
  if (v.length === 0) throw invalid('resources', 'nothing to apply');
  if (v.length > MAX_RESOURCES_PER_APPLY) throw invalid('resources', `more than ${MAX_RESOURCES_PER_APPLY} resources`);
  const seen = new Set<string>();
  const out = v.map((r, i) => {
    const res = validateResource(r, `resources[${i}]`);
    const id = `${res.kind}/${res.meta.name}`;
    if (seen.has(id)) throw invalid(`resources[${i}]`, `${id} appears twice`);
    seen.add(id);
    return res;
  });
  checkDependencyCycles(out);
  return out;
}
