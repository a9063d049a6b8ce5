/**
 * kubectl's STATUS of a pod that has init containers: Init:N/M while they run, Init:<reason>
 * when one failed (Init:Error, Init:CrashLoopBackOff …), PodInitializing once they are done and
 * the main containers are not started yet. Undefined when the init containers say nothing.
 */
import type { ContainerView, PodView } from '../../../server/views.js';

const completed = (c: ContainerView): boolean => c.state === 'exited' && c.exitCode === 0;

export function initStatusText(p: PodView): string | undefined {
  const inits = p.initContainers;
  if (!inits?.length) return undefined;
  for (const [i, c] of inits.entries()) {
    if (completed(c)) continue;
    if (c.state === 'exited') return `Init:${c.reason ?? (c.exitCode !== undefined ? `ExitCode:${c.exitCode}` : 'Error')}`;
    if (c.state === 'waiting' && c.reason && c.reason !== 'ContainerCreating' && c.reason !== 'PodInitializing') return `Init:${c.reason}`;
    // Running, or not created yet: this many have completed. A pod whose mains already run
    // (its inits' records gone) is past this point: its main containers speak for it.
    if (p.containers.some((m) => m.state !== 'waiting' || m.reason !== 'PodInitializing')) return undefined;
    return `Init:${i}/${inits.length}`;
  }
  return p.containers.some((c) => c.state === 'waiting' && c.reason === 'PodInitializing') ? 'PodInitializing' : undefined;
}

/** describe's one line per init container: "setup Completed", "migrate running", "wait Init:Error (exit 1)". */
export function initContainersText(p: PodView): string | undefined {
  if (!p.initContainers?.length) return undefined;
  return p.initContainers
    .map((c) => `${c.name} ${completed(c) ? 'Completed' : c.state === 'running' ? 'running' : `${c.reason ?? c.state}${c.exitCode !== undefined ? ` (exit ${c.exitCode})` : ''}`}`)
    .join(', ');
}
