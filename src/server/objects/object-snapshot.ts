/**
 * Every object of every kind at once, as the controllers and the target publisher decide on
 * them: `readObjects` lists the kinds side by side (one list after the other would wait for the
 * store once per kind, 18 times per pass), and `withWrites` carries a snapshot forward by the
 * object writes committed since it was read, so a chain of controller passes does not read the
 * whole store again after each of its own commits (controller-loop.ts).
 */
import { refOf, type AnyObject } from '../../core/objects/changes.js';
import { ALL_KINDS } from '../../core/objects/kinds.js';
import type { KindName } from '../../core/objects/validate.js';
import { emptyObjects, type ObjectsByKind } from '../controllers/controller.js';
import { keyOf, type ObjectStore, type ObjectWrite } from './object-store.js';

export async function readObjects(objects: ObjectStore): Promise<ObjectsByKind> {
  const lists = await Promise.all(ALL_KINDS.map((info) => objects.list(info.kind)));
  const out = emptyObjects() as Record<string, unknown>;
  ALL_KINDS.forEach((info, i) => (out[info.kind] = lists[i]!.items));
  return out as ObjectsByKind;
}

/**
 * `base` with `writes` applied in commit order (a write of an object already in `base` replaces
 * it; one without `object` removes it). The kinds written keep the store's order (by key, as a
 * list returns them); the others are `base`'s own arrays. Pure: `base` is not changed.
 */
export function withWrites(base: ObjectsByKind, writes: readonly ObjectWrite[]): ObjectsByKind {
  if (writes.length === 0) return base;
  const touched = new Map<KindName, Map<string, AnyObject>>();
  for (const w of writes) {
    let byKey = touched.get(w.kind);
    if (!byKey) {
      byKey = new Map((base[w.kind] as readonly AnyObject[]).map((o) => [keyOf(refOf(o)), o]));
      touched.set(w.kind, byKey);
    }
    if (w.object) byKey.set(w.key, w.object);
    else byKey.delete(w.key);
  }
  const out = { ...base } as Record<string, unknown>;
  for (const [kind, byKey] of touched) {
    out[kind] = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => byKey.get(k)!);
  }
  return out as ObjectsByKind;
}
