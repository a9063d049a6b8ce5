import type { App, ConfigMap, Secret } from '../../../core/model.js';
import type { AppSummary, DeferredView, NodeDetail, PodView } from '../../../server/views.js';
import { initStatusText } from './init-status-text.js';

/** The API's JSON shapes, as the server defines them (docs/api.md). */
export type { PodView } from '../../../server/views.js';
export type NodeView = NodeDetail;
/**
 * deferred: updates nodes hold back (window closed, lock held); absent from older servers.
 * daemonSetNote: why a DaemonSet runs on fewer nodes than it matches.
 */
export type AppView = App & { pods: AppSummary; podList?: PodView[]; deferred?: DeferredView[]; daemonSetNote?: string };

export type ConfigMapView = ConfigMap;
export type SecretView = Omit<Secret, 'data'> & { data: Record<string, string | number> };

export function nodeStatusText(n: NodeView): string {
  return `${n.ready ? 'Ready' : 'NotReady'}${n.cordoned ? ',SchedulingDisabled' : ''}`;
}

/** kubectl's STATUS column: the reason of a waiting/exited container wins over the phase. */
export function podStatusText(p: PodView): string {
  const init = initStatusText(p);
  if (init) return init;
  const reason = p.containers.find((c) => c.state !== 'running' && c.reason)?.reason;
  return reason ?? p.phase;
}

export function labelsText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '<none>';
}
