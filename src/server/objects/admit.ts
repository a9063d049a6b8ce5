/**
 * What every object goes through before the server stores it: its kind's schema and rules
 * (checkObject, which also applies the schema defaults) and the defaults only code can express
 * (defaults.ts: imagePullPolicy by tag, Pod requests from limits), so that what is stored, and
 * compared for "unchanged", is always the defaulted form.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { defaultPodSpec } from '../../core/objects/defaults.js';
import { pathText } from '../../core/objects/explain.js';
import { clipText, quoteValue } from '../../core/quote.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';
import type { PodSpec } from '../../core/objects/pod.js';
import { checkObject, type ObjectProblem } from '../../core/objects/validate.js';
import { defaultService } from '../../core/objects/service-defaults.js';
import type { Service } from '../../core/objects/service.js';

/** One invalid field, as Kubernetes' Status details.causes carries it. */
export interface Cause {
  field: string;
  message: string;
}

export function causesOf(problems: readonly ObjectProblem[]): Cause[] {
  return problems.map((p) => ({ field: pathText(p.path), message: p.reason }));
}

/** Kubernetes' wording: `Deployment.apps "web" is invalid: spec.replicas: …`; a huge name is cut (quote.ts), so the answer stays small. */
export function invalidObject(kind: KindName, name: string, causes: readonly Cause[]): GroveError {
  const group = KINDS[kind].group;
  const first = causes.slice(0, 3).map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const more = causes.length > 3 ? ` (and ${causes.length - 3} more)` : '';
  return new GroveError(ErrorCode.InvalidArgument, `${kind}${group ? `.${group}` : ''} ${quoteValue(name)} is invalid: ${first.join(', ')}${more}`, {
    details: { kind, name: clipText(name), reason: 'Invalid', causes },
  });
}

type Spec = Record<string, unknown> | undefined;

/** Applies defaultPodSpec to the pod spec found at `path` under `root`, if present. */
function defaultAt(root: Spec, path: readonly string[], where: 'template' | 'pod'): void {
  let node: Spec = root;
  for (const seg of path.slice(0, -1)) node = node?.[seg] as Spec;
  const last = path.at(-1)!;
  const spec = node?.[last] as PodSpec | undefined;
  if (node && spec && Array.isArray(spec.containers)) node[last] = defaultPodSpec(spec, where);
}

/** Where each kind keeps a pod spec, and whether it is a template or a Pod's own. */
const POD_SPECS: Partial<Record<KindName, { path: string[]; where: 'template' | 'pod' }>> = {
  Pod: { path: ['spec'], where: 'pod' },
  Deployment: { path: ['spec', 'template', 'spec'], where: 'template' },
  ReplicaSet: { path: ['spec', 'template', 'spec'], where: 'template' },
  DaemonSet: { path: ['spec', 'template', 'spec'], where: 'template' },
  StatefulSet: { path: ['spec', 'template', 'spec'], where: 'template' },
  Job: { path: ['spec', 'template', 'spec'], where: 'template' },
  CronJob: { path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'], where: 'template' },
  ControllerRevision: { path: ['data', 'spec', 'template', 'spec'], where: 'template' },
};

/** The pod spec `object` (a `kind` object) carries, and where; undefined for kinds without one. */
export function podSpecOf(kind: KindName, object: Record<string, unknown>): { path: readonly string[]; spec: PodSpec } | undefined {
  const at = POD_SPECS[kind];
  if (!at) return undefined;
  let node: Spec = object;
  for (const seg of at.path) node = node?.[seg] as Spec;
  return node && Array.isArray(node.containers) ? { path: at.path, spec: node as unknown as PodSpec } : undefined;
}

/**
 * The defaulted copy of `value` as a `kind` object, or an InvalidArgument GroveError naming
 * every problem (details.causes). `value` is not changed.
 */
export function admitObject(kind: KindName, value: unknown): AnyObject {
  const checked = checkObject(kind, value);
  if (!checked.ok) {
    const name = (value as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    throw invalidObject(kind, typeof name === 'string' ? name : '', causesOf(checked.problems));
  }
  const object = checked.value as unknown as Record<string, unknown>;
  const at = POD_SPECS[kind];
  if (at) defaultAt(object, at.path, at.where);
  if (kind === 'Secret') foldStringData(object);
  if (kind === 'Service') return defaultService(object as unknown as Service) as unknown as AnyObject;
  return object as unknown as AnyObject;
}

/**
 * A Secret's `stringData` is write-only input: folded into `data` (base64), its keys winning
 * over the same keys of `data`, as Kubernetes does, and never stored.
 */
function foldStringData(secret: Record<string, unknown>): void {
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData === undefined) return;
  const data: Record<string, string> = { ...(secret.data as Record<string, string> | undefined) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  delete secret.stringData;
  secret.data = data;
}
