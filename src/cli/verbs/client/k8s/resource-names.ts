/** How kubectl names a kind in its output: `deployment.apps/web`, `pod/web-x2k4`, `node/pi-1`. */
import type { KindInfo } from '../../../../core/objects/kinds.js';

/** "deployment.apps", "pod": the singular resource, qualified by its group unless core. */
export function qualifiedKind(kind: KindInfo): string {
  return kind.group ? `${kind.singular}.${kind.group}` : kind.singular;
}

/** `-o name`'s form: "deployment.apps/web". */
export function resourceName(kind: KindInfo, name: string): string {
  return `${qualifiedKind(kind)}/${name}`;
}

/** kubectl's confirmation of a delete: `deployment.apps "web" deleted`. */
export function deletedLine(kind: KindInfo, name: string): string {
  return `${qualifiedKind(kind)} ${JSON.stringify(name)} deleted`;
}
