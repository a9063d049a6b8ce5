/**
 * The client side of applying objects: every object of one `grove apply` in ONE request
 * (`POST /v1/apply` with `{objects, dryRun?}`; the server commits them together), and the lines
 * kubectl prints for the answer (`deployment.apps/web created`).
 */
import { ErrorCode, GroveError, isGroveError } from '../../core/errors.js';
import type { ObjectSource } from '../../core/manifests/manifest-objects.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';
import { qualifiedKind } from '../verbs/client/k8s/resource-names.js';
import { causeLines, causeText, type StatusCause } from './kube-status.js';

/** Where the server serves the object apply (S1 of the switch renames it to /v1/apply: change it here only). */
export const APPLY_OBJECTS_PATH = '/v1/apply';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyObjectResult {
  kind: string;
  namespace?: string;
  name: string;
  action: ApplyAction;
}

export interface ApplyObjectsResponse {
  results: ApplyObjectResult[];
}

/** What applyObjects needs of the API client (ApiClient has it; tests pass a fake). */
export interface JsonPoster {
  post<T>(path: string, body: unknown): Promise<T>;
}

const ACTIONS = new Set<string>(['created', 'configured', 'unchanged']);

function checkResponse(response: unknown, sent: number): ApplyObjectResult[] {
  const results = (response as Partial<ApplyObjectsResponse> | undefined)?.results;
  const valid =
    Array.isArray(results) &&
    results.length === sent &&
    results.every((r) => typeof r === 'object' && r !== null && typeof r.kind === 'string' && typeof r.name === 'string' && ACTIONS.has(r.action) && (r.namespace === undefined || typeof r.namespace === 'string'));
  if (!valid) throw new GroveError(ErrorCode.Internal, `the server's apply answer is not {results: [{kind, namespace?, name, action}]} for the ${sent} objects sent`);
  return results;
}

/** Sends `objects` as one apply; the server's answer, one result per object. */
export async function applyObjects(client: JsonPoster, objects: readonly AnyObject[], options: { dryRun?: boolean } = {}): Promise<ApplyObjectResult[]> {
  if (objects.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'nothing to apply');
  const body = { objects, ...(options.dryRun ? { dryRun: true } : {}) };
  return checkResponse(await client.post<unknown>(APPLY_OBJECTS_PATH, body), objects.length);
}

/** kubectl's name of an object: `deployment.apps/web`, `configmap/settings`, `job.batch/backup`. */
export function resourceName(kind: string, name: string): string {
  const info = Object.prototype.hasOwnProperty.call(KINDS, kind) ? KINDS[kind as KindName] : undefined;
  return `${info ? qualifiedKind(info) : kind.toLowerCase()}/${name}`;
}

/** The line kubectl prints for one result: `deployment.apps/web created`, `… (server dry run)`. */
export function applyResultLine(r: ApplyObjectResult, dryRun = false): string {
  return `${resourceName(r.kind, r.name)} ${r.action}${dryRun ? ' (server dry run)' : ''}`;
}

/** `objects[3].spec.replicas` → 3 and `spec.replicas`: which object sent a cause is about. */
const OBJECT_FIELD = /^objects\[(\d+)\](?:\.(.*))?$/;

/**
 * The server's refusal of an apply (its Status causes name `objects[i]…`), one line per cause
 * naming the file — and the document, past the first — that object came from, as 0.1 named it:
 * `host.yaml: spec.template.spec.volumes[0].hostPath.path: Deployment default/web: …`. Without
 * the Status head, which repeats the first causes. Other errors pass as they are.
 */
export function refusalWithSources(err: unknown, sources: readonly ObjectSource[]): unknown {
  const causes = isGroveError(err) ? (err.details as { causes?: StatusCause[] }).causes : undefined;
  if (!isGroveError(err) || !Array.isArray(causes) || causes.length === 0) return err;
  const lineOf = (c: StatusCause): string => {
    const at = OBJECT_FIELD.exec(c.field ?? '');
    const source = at ? sources[Number(at[1])] : undefined;
    if (!at || !source) return causeText(c);
    const where = source.document > 1 ? `${source.file} (document ${source.document})` : source.file;
    const { field: _sent, ...inObject } = c;
    return `${where}: ${causeText(at[2] ? { ...inObject, field: at[2] } : inObject)}`;
  };
  return new GroveError(err.code, causeLines(causes, lineOf).join('\n'), { details: err.details, cause: err });
}
