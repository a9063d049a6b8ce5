import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, GroveError } from '../core/errors.js';
import { parseBytes } from '../core/quantity.js';
import { checkSettings, DEFAULT_BRIDGE, DEFAULT_POD_SUBNET } from '../../agent/src/runtime/cni/cni-config.js';

export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 2;
const MAX_CONFIG_BYTES = 64 * 1024;

/** Node-local settings read from <data-dir>/config.json; flags override them. */
export interface LocalConfig {
  runtime: 'auto' | 'crun' | 'runc';
  logMaxBytes: number;
  logMaxFiles: number;
  /** The node bridge CNI attaches pods to (default grove0). */
  podBridge: string;
  /** Where pod addresses come from (default 10.42.0.0/16). */
  podSubnet: string;
  /** Uncompressed bytes one image may unpack to (absent: 4 GiB; docs/images.md). */
  imageMaxUnpackedBytes?: number;
  /** Bytes that must stay free on the image store's filesystem while unpacking (absent: 5 %, at most 256 MiB). */
  imageMinFreeBytes?: number;
}

/** Smallest image budget accepted: below it not even a busybox image unpacks. */
const MIN_IMAGE_BUDGET = 1024 * 1024;

export async function loadLocalConfig(dataDir: string): Promise<LocalConfig> {
  const file = join(dataDir, 'config.json');
  const config: LocalConfig = { runtime: 'auto', logMaxBytes: DEFAULT_LOG_MAX_BYTES, logMaxFiles: DEFAULT_LOG_MAX_FILES, podBridge: DEFAULT_BRIDGE, podSubnet: DEFAULT_POD_SUBNET };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return config;
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (text.length > MAX_CONFIG_BYTES) throw new GroveError(ErrorCode.ConfigInvalid, `${file}: larger than 64 KiB`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: must be a JSON object`);
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'runtime') {
      if (value !== 'auto' && value !== 'crun' && value !== 'runc') {
        throw new GroveError(ErrorCode.ConfigInvalid, `${file}: runtime must be "auto", "crun" or "runc"`);
      }
      config.runtime = value;
    } else if (key === 'logMaxBytes' || key === 'logMaxFiles') {
      if (!Number.isSafeInteger(value) || (value as number) < (key === 'logMaxBytes' ? 4096 : 1)) {
        throw new GroveError(ErrorCode.ConfigInvalid, `${file}: ${key} must be a whole number (${key === 'logMaxBytes' ? '>= 4096' : '>= 1'})`);
      }
      config[key] = value as number;
    } else if (key === 'imageMaxUnpackedBytes' || key === 'imageMinFreeBytes') {
      // A number of bytes, or a size such as "4Gi" / "512m".
      let bytes: number;
      try {
        bytes = parseBytes(value as string | number, key);
      } catch (err) {
        throw new GroveError(ErrorCode.ConfigInvalid, `${file}: ${(err as Error).message}`, { cause: err });
      }
      if (key === 'imageMaxUnpackedBytes' && bytes < MIN_IMAGE_BUDGET) throw new GroveError(ErrorCode.ConfigInvalid, `${file}: imageMaxUnpackedBytes must be at least 1Mi`);
      config[key] = bytes;
    } else if (key === 'podBridge' || key === 'podSubnet') {
      if (typeof value !== 'string') throw new GroveError(ErrorCode.ConfigInvalid, `${file}: ${key} must be a string`);
      config[key] = value;
    } else {
      throw new GroveError(ErrorCode.ConfigInvalid, `${file}: unknown setting "${key}"`);
    }
  }
  try {
    checkSettings({ bridge: config.podBridge, subnet: config.podSubnet, ipamDataDir: '' });
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `${file}: ${(err as Error).message}`, { cause: err });
  }
  return config;
}
