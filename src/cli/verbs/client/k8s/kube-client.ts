/**
 * A small typed client for the server's Kubernetes paths (docs/api.md "Kubernetes paths"):
 * list a kind in one namespace or all of them (with a label selector), get one object, delete
 * one. It rides on ApiClient (transport, admin token, cluster CA); a Status error answered by the
 * server becomes one line in kubectl's words: `Error from server (NotFound): deployments.apps
 * "web" not found`.
 */
import { ErrorCode, GroveError, isGroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { KindInfo } from '../../../../core/objects/kinds.js';
import type { ApiClient } from '../../../client/api-client.js';

/** The label selector travels as the user wrote it; the server parses it (and says what is wrong). */
const MAX_SELECTOR_LENGTH = 4096;

export interface ListScope {
  /** Absent: every namespace (`-A`), or a cluster-scoped kind. */
  namespace?: string;
  labelSelector?: string;
}

function root(kind: KindInfo): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

/** The collection path: `/apis/apps/v1/namespaces/default/deployments`, `/api/v1/nodes`, `/api/v1/pods` (all namespaces). */
export function collectionPath(kind: KindInfo, namespace: string | undefined): string {
  const scope = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root(kind)}${scope}/${kind.plural}`;
}

/** One object's path; a namespaced kind needs its namespace. */
export function itemPath(kind: KindInfo, namespace: string | undefined, name: string): string {
  if (kind.namespaced && namespace === undefined) throw new GroveError(ErrorCode.Internal, `${kind.kind} ${name}: no namespace`);
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

function isObjectLike(value: unknown): value is { metadata: { name: string } } {
  const meta = (value as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof value === 'object' && value !== null && typeof meta?.name === 'string';
}

/** Checks the shape this client relies on and fills apiVersion/kind, which list items may omit. */
function asObject(kind: KindInfo, value: unknown, what: string): AnyObject {
  if (!isObjectLike(value)) throw new GroveError(ErrorCode.Internal, `the server answered ${what} with something that is not a ${kind.kind}`);
  return { ...value, apiVersion: kind.apiVersion, kind: kind.kind } as unknown as AnyObject;
}

/** A Status error in kubectl's words; other failures (server unreachable …) as they are. */
function kubectlError(err: unknown): unknown {
  if (!isGroveError(err) || typeof err.details.reason !== 'string') return err;
  return new GroveError(err.code, `Error from server (${err.details.reason}): ${err.message}`, { cause: err, details: err.details });
}

export class KubeClient {
  constructor(private readonly api: ApiClient) {}

  async list(kind: KindInfo, scope: ListScope = {}): Promise<AnyObject[]> {
    const query = new URLSearchParams();
    if (scope.labelSelector !== undefined && scope.labelSelector !== '') {
      if (scope.labelSelector.length > MAX_SELECTOR_LENGTH) throw new GroveError(ErrorCode.InvalidArgument, `label selector longer than ${MAX_SELECTOR_LENGTH} characters`);
      query.set('labelSelector', scope.labelSelector);
    }
    const path = collectionPath(kind, scope.namespace) + (query.size ? `?${query}` : '');
    const list = await this.call(() => this.api.get<{ items?: unknown }>(path));
    if (!Array.isArray(list?.items)) throw new GroveError(ErrorCode.Internal, `the server answered GET ${path} without a list of items`);
    return list.items.map((item) => asObject(kind, item, `GET ${path}`));
  }

  async get(kind: KindInfo, namespace: string | undefined, name: string): Promise<AnyObject> {
    const path = itemPath(kind, namespace, name);
    return asObject(kind, await this.call(() => this.api.get<unknown>(path)), `GET ${path}`);
  }

  /** Deletes one object (its dependents follow in the background); answers the object as it was. */
  async delete(kind: KindInfo, namespace: string | undefined, name: string): Promise<void> {
    await this.call(() => this.api.delete<unknown>(itemPath(kind, namespace, name)));
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw kubectlError(err);
    }
  }
}
