import type { CliContext } from '../context.js';
import { ApiClient } from './api-client.js';
import { loadClientConfig } from './client-config.js';

/** The API client for a client verb: --config, $GROVE_CONFIG, or <data-dir>/client.json. */
export async function openClient(ctx: CliContext): Promise<ApiClient> {
  return new ApiClient(await loadClientConfig({ config: ctx.clientConfig, dataDir: ctx.dataDir }));
}
