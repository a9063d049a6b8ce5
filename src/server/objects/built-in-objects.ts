/**
 * The objects a control plane has from its first start, as k3s ships them: the namespace
 * `default` and the `local-path` StorageClass (docs/manifests.md "Persistent volumes"). Made in
 * ONE commit before the server says it is ready, so that a started server's store is settled
 * (no write lands after "ready" when nothing was asked), and never again once they exist: an
 * admin's labels stay, and a restart writes nothing. (The persistentvolume controller brings the
 * class back if it is deleted later, as k3s' addon manifests do.)
 */
import { DEFAULT_NAMESPACE } from '../../core/keys.js';
import type { AnyObject, ObjectChange } from '../../core/objects/changes.js';
import { LOCAL_PATH_CLASS, localPathStorageClass } from '../../core/objects/storage-constants.js';
import { defaultNamespace } from './namespaces.js';
import type { ObjectStore } from './object-store.js';

/** Creates what is missing of them; returns the `Kind/name` of each object it created. */
export async function ensureBuiltInObjects(objects: ObjectStore): Promise<string[]> {
  const wanted: AnyObject[] = [];
  if (!(await objects.get({ kind: 'Namespace', name: DEFAULT_NAMESPACE }))) wanted.push(defaultNamespace());
  if (!(await objects.get({ kind: 'StorageClass', name: LOCAL_PATH_CLASS }))) wanted.push(localPathStorageClass() as unknown as AnyObject);
  if (wanted.length === 0) return [];
  const changes: ObjectChange[] = wanted.map((object) => ({ op: 'put', object, expect: 'absent' }));
  const { results } = await objects.commit(changes);
  return results.flatMap((r, i) => (r.outcome === 'created' ? [`${wanted[i]!.kind}/${wanted[i]!.metadata.name}`] : []));
}
