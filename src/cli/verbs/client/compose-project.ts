/**
 * `grove compose ps` and `grove compose logs`: the project's pods, found as docker compose finds
 * its containers — by the project label (com.docker.compose.project) in the project's namespace,
 * both read from the objects the compose file becomes (so `-p`, `-n`-less defaults and
 * `name:` are honoured exactly as `grove compose up` applied them).
 */
import type { AnyObject } from '../../../core/objects/changes.js';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, CONTAINER_NAME_ANNOTATION } from '../../../core/objects/annotations.js';
import { podSummary } from '../../../core/objects/columns/pod-status.js';
import type { KindObject } from '../../../core/objects/validate.js';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { table } from '../../format.js';

type Pod = KindObject<'Pod'>;

export interface ComposeProject {
  name: string;
  namespace: string;
  /** Compose service name → the name of the workload it became (kind/name, as `grove logs` takes it). */
  workloads: Map<string, string>;
}

const WORKLOAD_TYPES: Readonly<Record<string, string>> = { Deployment: 'deployment', DaemonSet: 'daemonset', Job: 'job', CronJob: 'cronjob', StatefulSet: 'statefulset' };

/** The project the translated objects belong to (every compose workload carries its label). */
export function composeProject(objects: readonly AnyObject[]): ComposeProject {
  let project: ComposeProject | undefined;
  for (const o of objects) {
    const meta = o.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
    const name = meta.labels?.[COMPOSE_PROJECT_LABEL];
    const type = WORKLOAD_TYPES[o.kind as string];
    if (name === undefined || type === undefined) continue;
    project ??= { name, namespace: meta.namespace ?? 'default', workloads: new Map() };
    const service = meta.labels?.[COMPOSE_SERVICE_LABEL] ?? meta.name;
    project.workloads.set(service, `${type}/${meta.name}`);
  }
  if (!project) throw new GroveError(ErrorCode.InvalidArgument, 'the compose file defines no services that run (check --profile)');
  return project;
}

/** `HOST_IP:PORT->PORT/proto` for each published port, as docker compose ps shows them. */
function publishedPorts(pod: Pod): string {
  const out: string[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined) continue;
      out.push(`${p.hostIP ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`);
    }
  }
  return out.join(', ');
}

/** docker compose ps' columns (NAME SERVICE STATUS PORTS) plus the node Grove placed it on. */
export function composePsTable(pods: readonly Pod[], now: Date): string {
  const rows = [...pods]
    .sort((a, b) => (a.metadata.labels?.[COMPOSE_SERVICE_LABEL] ?? '').localeCompare(b.metadata.labels?.[COMPOSE_SERVICE_LABEL] ?? '') || a.metadata.name.localeCompare(b.metadata.name))
    .map((pod) => {
      const summary = podSummary(pod, now);
      const restarts = summary.restarts === '0' ? '' : ` (restarts ${summary.restarts})`;
      return [
        pod.metadata.annotations?.[CONTAINER_NAME_ANNOTATION] ?? pod.metadata.name,
        pod.spec.containers.map((c) => c.image).join(','),
        pod.metadata.labels?.[COMPOSE_SERVICE_LABEL] ?? '',
        `${summary.status} ${summary.ready}${restarts}`,
        pod.spec.nodeName ?? '<pending>',
        publishedPorts(pod),
      ];
    });
  return table(['NAME', 'IMAGE', 'SERVICE', 'STATUS', 'NODE', 'PORTS'], rows);
}

/** The workloads `grove compose logs [SERVICE...]` reads: all, or the named services' (unknown names refused). */
export function logWorkloads(project: ComposeProject, services: readonly string[]): string[] {
  if (services.length === 0) return [...project.workloads.values()];
  return services.map((s) => {
    const w = project.workloads.get(s);
    if (!w) throw new GroveError(ErrorCode.InvalidArgument, `no such service: ${s} (the project's services: ${[...project.workloads.keys()].join(', ')})`);
    return w;
  });
}
