/**
 * The client side of applying objects: every object of one `grove apply` in ONE request
 * (`POST /v1/apply` with `{objects, dryRun?}`; the server commits them together), and the lines
 * kubectl prints for the answer (`deployment.apps/web created`). Not wired to the `apply` verb
 * yet: the verb sends the 0.1 body until the server side of objects is merged.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { KINDS, type KindName } from '../../core/objects/kinds.js';

/** Where the object server serves the object apply until the switch renames it to /v1/apply. */
export const APPLY_OBJECTS_PATH = '/v1/objects/apply';

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
  const type = info ? `${info.singular}${info.group ? `.${info.group}` : ''}` : kind.toLowerCase();
  return `${type}/${name}`;
}

/** The line kubectl prints for one result: `deployment.apps/web created`, `… (server dry run)`. */
export function applyResultLine(r: ApplyObjectResult, dryRun = false): string {
  return `${resourceName(r.kind, r.name)} ${r.action}${dryRun ? ' (server dry run)' : ''}`;
}
