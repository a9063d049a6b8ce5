/** The options kubectl's read and delete verbs share: which namespace, or all of them, and a label selector. */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { onOff, option } from '../../../config/option.js';
import { text } from '../../../config/units.js';
import type { ResourceRequest } from './resource-args.js';

export const DEFAULT_NAMESPACE = 'default';

export const NAMESPACE_OPTION = option({ unit: text('namespace', 63), short: '-n', description: 'the namespace (default: default)' });
export const ALL_NAMESPACES_OPTION = onOff({ short: '-A', description: 'every namespace' });
export const FIELD_SELECTOR_OPTION = option({ unit: text('selector'), description: 'field selector, applied to what the server lists: spec.nodeName=pi-1, status.phase!=Running, metadata.name=web' });
export const SELECTOR_OPTION = option({ unit: text('selector'), short: '-l', description: 'label selector: app=web, tier!=db, env in (a,b), key, !key' });

/** The namespace the verb works in: -n, else default. */
export function namespaceOf(namespace: string | undefined): string {
  return namespace ?? DEFAULT_NAMESPACE;
}

/** kubectl's refusal of `get pod web -A`. */
export function refuseNamedAcrossNamespaces(named: boolean, allNamespaces: boolean): void {
  if (named && allNamespaces) throw new GroveError(ErrorCode.InvalidArgument, 'a resource cannot be retrieved by name across all namespaces');
}

/** "No resources found in default namespace." (or without the namespace for -A and cluster-scoped kinds), as kubectl says it on stderr. */
export function noResourcesLine(resources: readonly ResourceRequest[], namespace: string, allNamespaces: boolean): string {
  const namespaced = resources.some((r) => r.kind.namespaced);
  return namespaced && !allNamespaces ? `No resources found in ${namespace} namespace.` : 'No resources found';
}
