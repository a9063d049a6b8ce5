/**
 * The namespace every object without one goes to: created at the server's first start (one
 * write), left alone after (no write, and labels an admin added to it are kept).
 */
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import type { AnyObject } from '../../core/objects/changes.js';
import type { ObjectStore } from './object-store.js';

/** The namespace `default` as it is first made (built-in-objects.ts makes it at start). */
export function defaultNamespace(): AnyObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } } as AnyObject;
}

/** Creates `default` alone when it does not exist (stores set up without a server start); true when it did so. */
export async function ensureDefaultNamespace(objects: ObjectStore): Promise<boolean> {
  if (await objects.get({ kind: 'Namespace', name: DEFAULT_NAMESPACE })) return false;
  const { results } = await objects.commit([{ op: 'put', object: defaultNamespace() }]);
  return results[0]?.outcome === 'created';
}
