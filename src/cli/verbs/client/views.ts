import type { App, ConfigMap, Secret } from '../../../core/model.js';
import type { NodeFacts } from '../../../core/wire-types.js';

/** The API's JSON shapes as the CLI reads them (docs/api.md). */
export type AppView = App & { pods: { desired: number; current: number; ready: number; upToDate: number }; podList?: PodView[] };

export interface PodView {
  name: string;
  app: string;
  node: string;
  phase: string;
  ready: boolean;
  restarts: number;
  containers: { name: string; state: string; exitCode?: number; oomKilled: boolean; reason?: string }[];
  revision?: number;
  templateHash: string;
  createdAt?: string;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  cordoned: boolean;
  ready: boolean;
  online: boolean;
  facts?: NodeFacts;
  pods: string[];
  joinedAt: string;
  lastStatusAt?: string;
  lastTransitionAt?: string;
  observedRevision?: number;
  targetRevision?: number;
}

export type ConfigMapView = ConfigMap;
export type SecretView = Omit<Secret, 'data'> & { data: Record<string, string | number> };

export function nodeStatusText(n: NodeView): string {
  return `${n.ready ? 'Ready' : 'NotReady'}${n.cordoned ? ',SchedulingDisabled' : ''}`;
}

/** kubectl's STATUS column: the reason of a waiting/exited container wins over the phase. */
export function podStatusText(p: PodView): string {
  const reason = p.containers.find((c) => c.state !== 'running' && c.reason)?.reason;
  return reason ?? p.phase;
}

export function labelsText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '<none>';
}
