/**
 * The namespace every object without one goes to: created at the server's first start (one
 * write), left alone after (no write, and labels an admin added to it are kept).
 */
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import type { AnyObject } from '../../core/objects/changes.js';
import type { ObjectStore } from './object-store.js';

/** Creates `default` when it does not exist; true when it did so. */
export async function ensureDefaultNamespace(objects: ObjectStore): Promise<boolean> {
  if (await objects.get({ kind: 'Namespace', name: DEFAULT_NAMESPACE })) return false;
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE } } as AnyObject;
  const { results } = await objects.commit([{ op: 'put', object: ns }]);
  return results[0]?.outcome === 'created';
}
