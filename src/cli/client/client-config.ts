import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { writeFileAtomic } from '../../store/durable-file.js';
import { checkClientToken } from './client-token.js';

/** How client verbs reach a server: written by `grove server` at first start (mode 0600). */
export interface ClientConfig {
  apiUrl: string;
  token: string;
  /** PEM of the cluster CA when the API is served over TLS. */
  caCert?: string;
}

const MAX_CLIENT_CONFIG_BYTES = 64 * 1024;

export function clientConfigPath(dataDir: string): string {
  return join(dataDir, 'client.json');
}

export async function writeClientConfig(dataDir: string, config: ClientConfig): Promise<void> {
  await writeFileAtomic(clientConfigPath(dataDir), JSON.stringify(config, null, 2) + '\n', 0o600);
}

export interface ClientConfigLocation {
  /** --config FILE or $GROVE_CONFIG (src/cli/config/role-options.ts). */
  config?: string | undefined;
  dataDir: string;
}

/** --config FILE (or $GROVE_CONFIG), else <data-dir>/client.json (kubectl's KUBECONFIG order). */
export function clientConfigFile(options: ClientConfigLocation): string {
  return options.config ?? clientConfigPath(options.dataDir);
}

export async function loadClientConfig(options: ClientConfigLocation): Promise<ClientConfig> {
  const file = clientConfigFile(options);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (start `grove server` first, or pass --config)' : (err as Error).message;
    throw new GroveError(ErrorCode.ConfigInvalid, `client config ${file}: ${why}`, { cause: err });
  }
  if (text.length > MAX_CLIENT_CONFIG_BYTES) throw new GroveError(ErrorCode.ConfigInvalid, `client config ${file}: larger than 64 KiB`);
  let raw: Partial<ClientConfig>;
  try {
    raw = JSON.parse(text) as Partial<ClientConfig>;
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `client config ${file}: not valid JSON`, { cause: err });
  }
  if (typeof raw.apiUrl !== 'string' || !/^https?:\/\//.test(raw.apiUrl)) {
    throw new GroveError(ErrorCode.ConfigInvalid, `client config ${file}: apiUrl must be an http(s) URL`);
  }
  const token = checkClientToken(raw.token, `client config ${file}`);
  if (raw.caCert !== undefined && typeof raw.caCert !== 'string') throw new GroveError(ErrorCode.ConfigInvalid, `client config ${file}: caCert must be PEM text`);
  return { apiUrl: raw.apiUrl, token, ...(raw.caCert ? { caCert: raw.caCert } : {}) };
}
