/**
 * A small typed client for the server's Kubernetes paths (docs/api.md "Kubernetes paths"):
 * list a kind in one namespace or all of them (with a label selector), get one object, delete
 * one. It rides on ApiClient (transport, admin token, cluster CA); a Status error answered by the
 * server becomes one line in kubectl's words: `Error from server (NotFound): deployments.apps
 * "web" not found`.
 */
import { ErrorCode, GroveError, isGroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { ApiClient } from '../../../client/api-client.js';

/** The label selector travels as the user wrote it; the server parses it (and says what is wrong). */
const MAX_SELECTOR_LENGTH = 4096;

export interface ListScope {
  /** Absent: every namespace (`-A`), or a cluster-scoped kind. */
  namespace?: string;
  labelSelector?: string;
  /** Sent to the server as it is (drain's `spec.nodeName=…`, describe's events of one object). */
  fieldSelector?: string;
}

/**
 * What a path needs to know of a resource: its group, version, plural and scope, and the
 * apiVersion/kind its items carry. A KindInfo is one; so is Events' (events.ts), which Grove
 * serves without storing it as a kind.
 */
export interface ApiResource {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  apiVersion: string;
  kind: string;
}

/** One event of a watch stream (the Kubernetes API's watch.Event). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  /** The object; a Status for ERROR; only metadata.resourceVersion for BOOKMARK. */
  object: AnyObject;
}

const WATCH_TYPES: readonly WatchEvent['type'][] = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'];

/** Whether a watch failed because its resourceVersion is too old (410 Gone, as HTTP status or ERROR event). */
export function isGone(err: unknown): boolean {
  return isGroveError(err) && err.details.status === 410;
}

/** The merge patch content type of the Kubernetes API (RFC 7386). */
export const MERGE_PATCH = 'application/merge-patch+json';

function root(kind: ApiResource): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

/** The collection path: `/apis/apps/v1/namespaces/default/deployments`, `/api/v1/nodes`, `/api/v1/pods` (all namespaces). */
export function collectionPath(kind: ApiResource, namespace: string | undefined): string {
  const scope = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root(kind)}${scope}/${kind.plural}`;
}

/** One object's path; a namespaced kind needs its namespace. */
export function itemPath(kind: ApiResource, namespace: string | undefined, name: string): string {
  if (kind.namespaced && namespace === undefined) throw new GroveError(ErrorCode.Internal, `${kind.kind} ${name}: no namespace`);
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}

function isObjectLike(value: unknown): value is { metadata: { name: string } } {
  const meta = (value as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof value === 'object' && value !== null && typeof meta?.name === 'string';
}

/** Checks the shape this client relies on and fills apiVersion/kind, which list items may omit. */
function asObject(kind: ApiResource, value: unknown, what: string): AnyObject {
  if (!isObjectLike(value)) throw new GroveError(ErrorCode.Internal, `the server answered ${what} with something that is not a ${kind.kind}`);
  return { ...value, apiVersion: kind.apiVersion, kind: kind.kind } as unknown as AnyObject;
}

/** A list's scope: namespace, and both selectors for the server to apply. */
export function listScope(namespace: string | undefined, selectors: { labelSelector?: string | undefined; fieldSelector?: string | undefined }): ListScope {
  return {
    ...(namespace !== undefined ? { namespace } : {}),
    ...(selectors.labelSelector ? { labelSelector: selectors.labelSelector } : {}),
    ...(selectors.fieldSelector ? { fieldSelector: selectors.fieldSelector } : {}),
  };
}

/** A list's path and query: `/api/v1/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dpi-1`. */
export function listPath(kind: ApiResource, scope: ListScope, extra: Readonly<Record<string, string>> = {}): string {
  const query = new URLSearchParams();
  for (const [key, selector] of [['labelSelector', scope.labelSelector], ['fieldSelector', scope.fieldSelector]] as const) {
    if (selector === undefined || selector === '') continue;
    if (selector.length > MAX_SELECTOR_LENGTH) throw new GroveError(ErrorCode.InvalidArgument, `${key === 'labelSelector' ? 'label' : 'field'} selector longer than ${MAX_SELECTOR_LENGTH} characters`);
    query.set(key, selector);
  }
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  return collectionPath(kind, scope.namespace) + (query.size ? `?${query}` : '');
}

/** A Status error in kubectl's words; other failures (server unreachable …) as they are. */
function kubectlError(err: unknown): unknown {
  if (!isGroveError(err) || typeof err.details.reason !== 'string') return err;
  return new GroveError(err.code, `Error from server (${err.details.reason}): ${err.message}`, { cause: err, details: err.details });
}

export class KubeClient {
  constructor(private readonly api: ApiClient) {}

  async list(kind: ApiResource, scope: ListScope = {}): Promise<AnyObject[]> {
    return (await this.listWithVersion(kind, scope)).items;
  }

  /** The items and the list's resourceVersion (where a watch starts). */
  async listWithVersion(kind: ApiResource, scope: ListScope = {}): Promise<{ items: AnyObject[]; resourceVersion: string | undefined }> {
    const path = listPath(kind, scope);
    const list = await this.call(() => this.api.get<{ items?: unknown; metadata?: { resourceVersion?: unknown } }>(path));
    if (!Array.isArray(list?.items)) throw new GroveError(ErrorCode.Internal, `the server answered GET ${path} without a list of items`);
    const version = list.metadata?.resourceVersion;
    return { items: list.items.map((item) => asObject(kind, item, `GET ${path}`)), resourceVersion: typeof version === 'string' && version !== '' ? version : undefined };
  }

  async get(kind: ApiResource, namespace: string | undefined, name: string): Promise<AnyObject> {
    const path = itemPath(kind, namespace, name);
    return asObject(kind, await this.call(() => this.api.get<unknown>(path)), `GET ${path}`);
  }

  /** A JSON merge patch of one object (or of its `subresource`: scale, status); answers what the server answers. */
  async mergePatch<T = unknown>(kind: ApiResource, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    const path = itemPath(kind, namespace, name) + (subresource ? `/${subresource}` : '');
    return this.call(() => this.api.patch<T>(path, patch, MERGE_PATCH));
  }

  /** GET of a subresource (a Deployment's scale). */
  async getSub<T>(kind: ApiResource, namespace: string | undefined, name: string, subresource: string): Promise<T> {
    return this.call(() => this.api.get<T>(`${itemPath(kind, namespace, name)}/${subresource}`));
  }

  /** PUT of a subresource (a scale carrying the resourceVersion it was read at). */
  async putSub<T>(kind: ApiResource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<T> {
    return this.call(() => this.api.put<T>(`${itemPath(kind, namespace, name)}/${subresource}`, body));
  }

  /** POST to a subresource (a pod's eviction). */
  async postSub<T>(kind: ApiResource, namespace: string | undefined, name: string, subresource: string, body: unknown): Promise<T> {
    return this.call(() => this.api.post<T>(`${itemPath(kind, namespace, name)}/${subresource}`, body));
  }

  /** Deletes one object (its dependents follow in the background); answers the object as it was. */
  async delete(kind: ApiResource, namespace: string | undefined, name: string): Promise<void> {
    await this.call(() => this.api.delete<unknown>(itemPath(kind, namespace, name)));
  }

  /**
   * One watch request from `resourceVersion` (absent: from now), bookmarks asked for: each event
   * to `onEvent` until the server ends the stream (resolves) or it breaks (rejects). A version
   * too old is HTTP 410 or an ERROR event with a 410 Status, as the server chooses: the caller
   * sees both (isGone).
   */
  async watch(kind: ApiResource, scope: ListScope, resourceVersion: string | undefined, onEvent: (event: WatchEvent) => void, signal?: AbortSignal): Promise<void> {
    const path = listPath(kind, scope, { watch: 'true', allowWatchBookmarks: 'true', ...(resourceVersion !== undefined ? { resourceVersion } : {}) });
    await this.call(() =>
      this.api.stream<unknown>(
        path,
        (raw) => {
          const event = raw as Partial<WatchEvent> | null;
          if (!event || !WATCH_TYPES.includes(event.type as WatchEvent['type']) || typeof event.object !== 'object' || event.object === null) {
            throw new GroveError(ErrorCode.Internal, `the server answered GET ${path} with something that is not a watch event`);
          }
          onEvent(event.type === 'ERROR' || event.type === 'BOOKMARK' ? (event as WatchEvent) : { type: event.type!, object: asObject(kind, event.object, `GET ${path}`) });
        },
        // A watch is quiet while nothing changes: no idle timeout (the server ends it, then it resumes).
        { ...(signal ? { signal } : {}), idle: true },
      ),
    );
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw kubectlError(err);
    }
  }
}
