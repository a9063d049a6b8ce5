import type { CliContext } from '../context.js';
import { ApiClient } from './api-client.js';
import { loadClientConfig } from './client-config.js';

/** The API client for a client verb: --config, $GROVE_CONFIG, or <data-dir>/client.json. */
export async function openClient(ctx: CliContext): Promise<ApiClient> {
  return new ApiClient(await loadClientConfig({ config: ctx.clientConfig, dataDir: ctx.dataDir }));
}

/** kubectl-style kind words → API collection names. */
export function collectionFor(kind: string): 'apps' | 'configmaps' | 'secrets' | 'nodes' | 'pods' | undefined {
  const k = kind.toLowerCase();
  if (['app', 'apps', 'deployment', 'deployments', 'deploy', 'daemonset', 'daemonsets', 'ds'].includes(k)) return 'apps';
  // Jobs and CronJobs are apps too (`grove get jobs` lists them in their own columns).
  if (['job', 'jobs', 'cronjob', 'cronjobs', 'cj'].includes(k)) return 'apps';
  if (['configmap', 'configmaps', 'cm'].includes(k)) return 'configmaps';
  if (['secret', 'secrets'].includes(k)) return 'secrets';
  if (['node', 'nodes', 'no'].includes(k)) return 'nodes';
  if (['pod', 'pods', 'po'].includes(k)) return 'pods';
  return undefined;
}

/** The singular word used in messages: app/web, configmap/settings. */
export function singular(collection: string): string {
  return collection.replace(/s$/, '');
}
