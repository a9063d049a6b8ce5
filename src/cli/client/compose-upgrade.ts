/**
 * Compose projects that a Grove from before project namespaces ran in `default` stay there.
 * `grove apply -f compose.yaml` without -n puts a project into a namespace named after it; for a
 * project already running in `default` (its workloads labelled com.docker.compose.project=<name>
 * there) that would start a second copy next to the first, which no docker compose user expects
 * from re-applying the same file. Such a project is translated into `default` again, and one
 * line says so and how to move it (docs/networking.md "Compose networking", Upgrading).
 */
import type { ComposeNamespace } from '../../core/manifests/compose-network.js';
import type { ObjectSource } from '../../core/manifests/manifest-objects.js';
import { COMPOSE_PROJECT_LABEL } from '../../core/objects/annotations.js';
import type { AnyObject } from '../../core/objects/changes.js';
import { KINDS } from '../../core/objects/kinds.js';
import type { ApiResource, ListScope } from '../verbs/client/k8s/kube-client.js';

export interface Translated {
  objects: AnyObject[];
  sources: ObjectSource[];
}

/** What the check needs of the API (KubeClient has it; tests pass a fake). */
export interface WorkloadLister {
  list(kind: ApiResource, scope: ListScope): Promise<AnyObject[]>;
}

/** What a compose service became before projects had namespaces (compose-objects.ts workloadObject). */
const WORKLOAD_KINDS: readonly ApiResource[] = [KINDS.Deployment, KINDS.DaemonSet, KINDS.Job];

/** The compose projects the objects put into namespaces of their own: each has its Namespace object, labelled with the project. */
function ownNamespaces(t: Translated): { project: string; namespace: string; file: string }[] {
  return t.objects.flatMap((o, i) => {
    const project = o.kind === 'Namespace' ? o.metadata.labels?.[COMPOSE_PROJECT_LABEL] : undefined;
    return project ? [{ project, namespace: o.metadata.name, file: t.sources[i]?.file ?? 'the compose file' }] : [];
  });
}

async function runsInDefault(api: WorkloadLister, project: string): Promise<boolean> {
  for (const kind of WORKLOAD_KINDS) {
    if ((await api.list(kind, { namespace: 'default', labelSelector: `${COMPOSE_PROJECT_LABEL}=${project}` })).length > 0) return true;
  }
  return false;
}

/** The line apply prints for a project kept in `default`. */
export function keptInDefaultLine(project: string, namespace: string, file: string): string {
  const f = file === '<stdin>' ? '-' : file;
  return `compose project ${project} stays in namespace default, where it already runs (from before projects had namespaces of their own); to move it to namespace ${namespace}: grove delete -f ${f} -n default, then grove apply -f ${f}`;
}

/**
 * `translated` (made without -n), or the sources translated again with the projects that already
 * run in `default` kept there; `say` gets one line per such project.
 */
export async function keepProjectsInDefault(translated: Translated, translate: (options: { composeNamespace: ComposeNamespace }) => Translated, api: WorkloadLister, say: (line: string) => void): Promise<Translated> {
  const kept = new Map<string, string>();
  for (const own of ownNamespaces(translated)) {
    if (kept.has(own.project) || !(await runsInDefault(api, own.project))) continue;
    kept.set(own.project, keptInDefaultLine(own.project, own.namespace, own.file));
  }
  if (kept.size === 0) return translated;
  for (const line of kept.values()) say(line);
  return translate({ composeNamespace: (project) => (kept.has(project) ? 'default' : undefined) });
}
