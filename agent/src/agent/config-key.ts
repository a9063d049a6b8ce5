/**
 * The node's config key for nodes that joined before per-node config keys existed: asked from
 * the server once (POST /v1/nodes/<node>/config-key, authenticated by the node's MQTT password,
 * over TLS pinned to the cluster CA) and then kept in join.json (0600) like the rest of the join.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import { isConfigKey, joinConfigPath, nodeHttpFetch, type JoinConfig, type JoinFetch } from './join-client.js';

export async function fetchConfigKey(join: JoinConfig, options: { dataDir?: string; fetch?: JoinFetch } = {}): Promise<Buffer> {
  const base = join.serverUrl.replace(/\/+$/, '');
  const secure = base.startsWith('https://');
  const res = await (options.fetch ?? nodeHttpFetch)({
    method: 'POST',
    url: `${base}/v1/nodes/${join.node}/config-key`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ password: join.mqtt.password }),
    ...(secure ? (join.caCert ? { ca: join.caCert } : { insecureTls: true }) : {}),
  });
  if (res.status !== 200) throw new GroveError(ErrorCode.ServerUnavailable, `the server refused the config key: HTTP ${res.status} (rejoin the node if this persists)`);
  let configKey: unknown;
  try {
    configKey = (JSON.parse(res.body) as { configKey?: unknown }).configKey;
  } catch {
    configKey = undefined;
  }
  if (!isConfigKey(configKey)) throw new GroveError(ErrorCode.ServerUnavailable, 'the server answered the config key request with something else');
  if (options.dataDir !== undefined) {
    join.configKey = configKey;
    await writeFileAtomic(joinConfigPath(options.dataDir), JSON.stringify(join, null, 2) + '\n', 0o600);
  }
  return Buffer.from(configKey, 'base64');
}
