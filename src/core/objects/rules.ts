/**
 * The rules of whole objects a schema cannot say, for every kind: the pod spec rules of its pod
 * template (pod-rules.ts), a selector that selects its template, the grove.io/ annotations, a
 * ConfigMap's or Secret's size and base64, a CronJob's schedule and time zone (cron-schedule.ts).
 * Pure; every problem is returned with its path from the object's root, after the object passed
 * its schema (validate.ts runs both).
 */
import { clipText } from '../quote.js';
import { matches, requirementOf, selectorText, type SelectorObject } from '../label-selector.js';
import { labelSelectorProblems } from './affinity-rules.js';
import { checkGroveAnnotations } from './annotations.js';
import { MAX_CONFIG_OBJECT_BYTES } from '../wire-limits.js';
import { scheduleProblem, timeZoneProblem } from './cron-schedule.js';
import type { PathSegment } from './explain.js';
import type { PodSpec, PodTemplateSpec } from './pod.js';
import { podSpecProblems, type RuleProblem } from './pod-rules.js';
import type { KindName } from './kind-table.js';
// The table without schemas (kinds.ts says why).
import { KIND_NAMES } from './generated/kind-names.js';
import type { Service } from './service.js';
import { serviceProblems } from './service-rules.js';
import type { Ingress } from './ingress.js';
import { ingressProblems } from './ingress-rules.js';
import type { PersistentVolume, PersistentVolumeClaim } from './storage.js';
import { persistentVolumeClaimProblems, persistentVolumeProblems } from './storage-rules.js';

export type { RuleProblem };

type Obj = Record<string, unknown>;

const at = (base: PathSegment[], problems: RuleProblem[]): RuleProblem[] => problems.map((p) => ({ path: [...base, ...p.path], reason: p.reason }));

function annotationProblems(blocks: { path: PathSegment[]; annotations?: Record<string, string> }[]): RuleProblem[] {
  return checkGroveAnnotations(...blocks.map((b) => b.annotations)).map((p) => ({ path: [...blocks[p.source]!.path, 'annotations', p.key], reason: p.reason }));
}

/**
 * Kubernetes' rules for a workload's selector: it selects something, its expressions are well
 * formed, and it selects the template's labels (else the workload could never count its pods).
 */
function selectorProblems(selector: SelectorObject, template: PodTemplateSpec, path: PathSegment[]): RuleProblem[] {
  const expressions = selector.matchExpressions ?? [];
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && expressions.length === 0) return [{ path, reason: 'must not be empty: give matchLabels or matchExpressions' }];
  const out = at(path, labelSelectorProblems(selector));
  if (out.length > 0) return out;
  const labels = template.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) {
      return [{ path: [...path, 'matchLabels'], reason: `${clipText(`${key}=${value}`)} does not match spec.template.metadata.labels (the selector must select the template's labels)` }];
    }
  }
  const i = expressions.findIndex((e) => !matches([requirementOf(e)], labels));
  if (i >= 0) return [{ path: [...path, 'matchExpressions', i], reason: `${clipText(selectorText({ matchExpressions: [expressions[i]!] }))} does not match spec.template.metadata.labels (the selector must select the template's labels)` }];
  return [];
}

/** A workload's template, selector and annotations; `specPath` is where its template's owner spec is. */
function templateProblems(o: Obj, specPath: PathSegment[], spec: Obj, options: { noInitContainers?: string } = {}): RuleProblem[] {
  const template = spec.template as PodTemplateSpec;
  const templatePath = [...specPath, 'template'];
  const out = at([...templatePath, 'spec'], podSpecProblems(template.spec));
  // Native sidecars (restartPolicy Always) never end a run by failing: a Job's pod may have them.
  const plainInit = template.spec.initContainers?.findIndex((c) => c.restartPolicy !== 'Always') ?? -1;
  if (options.noInitContainers && plainInit >= 0) {
    out.push({ path: [...templatePath, 'spec', 'initContainers', plainInit], reason: `is not supported on ${options.noInitContainers} pods yet (native sidecars, restartPolicy: Always, are)` });
  }
  if (spec.selector) out.push(...selectorProblems(spec.selector as SelectorObject, template, [...specPath, 'selector']));
  const meta = o.metadata as { annotations?: Record<string, string> };
  out.push(...annotationProblems([
    { path: ['metadata'], annotations: meta.annotations },
    { path: [...templatePath, 'metadata'], annotations: template.metadata?.annotations },
  ]));
  return out;
}

/**
 * A StatefulSet's spec with its pods' volumes as the controller makes them: each claim template
 * is a volume of its name (mounts may name it), replacing a template volume of that name.
 */
function withClaimVolumes(spec: Obj): Obj {
  const claims = ((spec.volumeClaimTemplates ?? []) as { metadata?: { name?: string } }[]).map((c) => c.metadata?.name).filter((n): n is string => typeof n === 'string');
  if (claims.length === 0) return spec;
  const template = spec.template as PodTemplateSpec;
  const volumes = [...(template.spec.volumes ?? []).filter((v) => !claims.includes(v.name)), ...claims.map((name) => ({ name, persistentVolumeClaim: { claimName: name } }))];
  return { ...spec, template: { ...template, spec: { ...template.spec, volumes } } };
}

/** What only a parser can check of a CronJob's schedule and time zone (the schema has their syntax). */
function cronProblems(spec: Obj): RuleProblem[] {
  const out: RuleProblem[] = [];
  const schedule = typeof spec.schedule === 'string' ? scheduleProblem(spec.schedule) : undefined;
  if (schedule) out.push({ path: ['spec', 'schedule'], reason: schedule });
  const zone = typeof spec.timeZone === 'string' ? timeZoneProblem(spec.timeZone) : undefined;
  if (zone) out.push({ path: ['spec', 'timeZone'], reason: zone });
  return out;
}

/** Kubernetes' limit for all annotations of one object, keys and values. */
const MAX_ANNOTATION_BYTES = 256 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Keys and values together, as Kubernetes counts them (Secret values and ConfigMap binaryData decoded). */
function configProblems(o: Obj, kind: 'ConfigMap' | 'Secret'): RuleProblem[] {
  const out: RuleProblem[] = [];
  let size = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const [key, value] of Object.entries((o.data ?? {}) as Record<string, string>)) {
    size += Buffer.byteLength(key, 'utf8');
    if (kind === 'ConfigMap') {
      size += Buffer.byteLength(value, 'utf8');
      continue;
    }
    // Line breaks are allowed, as Go's decoder allows them (long values get wrapped in YAML).
    const compact = value.replace(/[\r\n]/g, '');
    if (!BASE64.test(compact)) {
      out.push({ path: ['data', key], reason: 'is not valid base64 (put plain text under stringData)' });
      continue;
    }
    const bytes = Buffer.from(compact, 'base64');
    size += bytes.byteLength;
    try {
      utf8.decode(bytes);
    } catch {
      out.push({ path: ['data', key], reason: 'is not UTF-8 text: binary Secret values are not supported yet' });
    }
  }
  for (const [key, value] of Object.entries((o.stringData ?? {}) as Record<string, string>)) size += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  // A ConfigMap's binaryData: bytes, counted decoded, each key not also a key of data (as Kubernetes).
  const text = (o.data ?? {}) as Record<string, string>;
  for (const [key, value] of Object.entries((o.binaryData ?? {}) as Record<string, string>)) {
    size += Buffer.byteLength(key, 'utf8');
    if (Object.prototype.hasOwnProperty.call(text, key)) out.push({ path: ['binaryData', key], reason: 'duplicates a key of data: a key is in data or in binaryData' });
    const compact = value.replace(/[\r\n]/g, '');
    if (!BASE64.test(compact)) out.push({ path: ['binaryData', key], reason: 'is not valid base64' });
    else size += Buffer.from(compact, 'base64').byteLength;
  }
  if (size > MAX_CONFIG_OBJECT_BYTES) out.push({ path: ['data'], reason: `${size} bytes of keys and values: a ${kind} may hold at most ${MAX_CONFIG_OBJECT_BYTES} bytes (1 MiB)` });
  if (kind === 'Secret' && out.length === 0) out.push(...secretTypeProblems(o));
  return out;
}

/** The keys a Secret's type needs (any one of each group), as Kubernetes requires them. */
const SECRET_TYPE_KEYS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
  'kubernetes.io/basic-auth': [['username', 'password']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
};

/** A typed Secret's required keys (in data or stringData) and a dockerconfigjson that parses; never quoting a value. */
function secretTypeProblems(o: Obj): RuleProblem[] {
  const type = typeof o.type === 'string' ? o.type : 'Opaque';
  const data = (o.data ?? {}) as Record<string, string>;
  const plain = (o.stringData ?? {}) as Record<string, string>;
  const has = (key: string) => Object.prototype.hasOwnProperty.call(plain, key) || Object.prototype.hasOwnProperty.call(data, key);
  for (const anyOf of SECRET_TYPE_KEYS[type] ?? []) {
    if (!anyOf.some(has)) return [{ path: ['data'], reason: `a ${type} Secret needs the key ${anyOf.join(' or ')}` }];
  }
  if (type !== 'kubernetes.io/dockerconfigjson') return [];
  const key = '.dockerconfigjson';
  const text = Object.prototype.hasOwnProperty.call(plain, key) ? plain[key]! : Buffer.from(data[key]!.replace(/[\r\n]/g, ''), 'base64').toString('utf8');
  try {
    JSON.parse(text);
    return [];
  } catch {
    return [{ path: [Object.prototype.hasOwnProperty.call(plain, key) ? 'stringData' : 'data', key], reason: 'is not JSON' }];
  }
}

/**
 * Every rule problem of `o`, a `kind` object that passed its schema (defaults applied);
 * [] when there is none.
 */
export function objectProblems(kind: KindName, o: Obj): RuleProblem[] {
  return [...metadataProblems(kind, o), ...kindProblems(kind, o)];
}

/** Scope and ownership: what every kind's metadata must say. */
function metadataProblems(kind: KindName, o: Obj): RuleProblem[] {
  const meta = (o.metadata ?? {}) as { namespace?: string; annotations?: Record<string, string>; ownerReferences?: { controller?: boolean }[] };
  const out: RuleProblem[] = [];
  const annotationBytes = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (annotationBytes > MAX_ANNOTATION_BYTES) out.push({ path: ['metadata', 'annotations'], reason: `${annotationBytes} bytes: at most ${MAX_ANNOTATION_BYTES} (256 KiB) of annotations, as in Kubernetes` });
  if (!KIND_NAMES[kind].namespaced && meta.namespace !== undefined) out.push({ path: ['metadata', 'namespace'], reason: `a ${kind} is cluster-scoped: it has no namespace` });
  const controllers = (meta.ownerReferences ?? []).flatMap((r, i) => (r.controller ? [i] : []));
  if (controllers.length > 1) out.push({ path: ['metadata', 'ownerReferences', controllers[1]!, 'controller'], reason: 'only one owner can be the controller' });
  return out;
}

function kindProblems(kind: KindName, o: Obj): RuleProblem[] {
  const spec = (o.spec ?? {}) as Obj;
  const meta = (o.metadata ?? {}) as { annotations?: Record<string, string> };
  switch (kind) {
    case 'Pod':
      return [...at(['spec'], podSpecProblems(o.spec as PodSpec)), ...annotationProblems([{ path: ['metadata'], annotations: meta.annotations }])];
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      return templateProblems(o, ['spec'], spec);
    case 'StatefulSet':
      return templateProblems(o, ['spec'], withClaimVolumes(spec));
    case 'Job':
      return templateProblems(o, ['spec'], spec, { noInitContainers: 'Job' });
    case 'CronJob': {
      const jobSpec = (spec.jobTemplate as Obj).spec as Obj;
      return [...cronProblems(spec), ...templateProblems(o, ['spec', 'jobTemplate', 'spec'], jobSpec, { noInitContainers: 'CronJob' })];
    }
    case 'ControllerRevision': {
      const template = ((o.data as Obj | undefined)?.spec as Obj | undefined)?.template as PodTemplateSpec | undefined;
      if (!template) return [];
      // A StatefulSet's template mounts its volumeClaimTemplates by name: volumes its revision does
      // not carry (the StatefulSet's own rules checked those mounts against its claim templates).
      const fromStatefulSet = ((o.metadata as { ownerReferences?: { kind?: string; controller?: boolean }[] } | undefined)?.ownerReferences ?? []).some((r) => r.controller && r.kind === 'StatefulSet');
      const problems = podSpecProblems(template.spec).filter((p) => !(fromStatefulSet && p.path.at(-1) === 'name' && p.path.at(-3) === 'volumeMounts'));
      return at(['data', 'spec', 'template', 'spec'], problems);
    }
    case 'ConfigMap':
    case 'Secret':
      return configProblems(o, kind);
    case 'Service':
      return [...serviceProblems(o as unknown as Service), ...annotationProblems([{ path: ['metadata'], annotations: meta.annotations }])];
    case 'Ingress':
      return [...ingressProblems(o as unknown as Ingress), ...annotationProblems([{ path: ['metadata'], annotations: meta.annotations }])];
    case 'PersistentVolumeClaim':
      return [...persistentVolumeClaimProblems(o as unknown as PersistentVolumeClaim), ...annotationProblems([{ path: ['metadata'], annotations: meta.annotations }])];
    case 'PersistentVolume':
      return [...persistentVolumeProblems(o as unknown as PersistentVolume), ...annotationProblems([{ path: ['metadata'], annotations: meta.annotations }])];
    default:
      return annotationProblems([{ path: ['metadata'], annotations: meta.annotations }]);
  }
}

