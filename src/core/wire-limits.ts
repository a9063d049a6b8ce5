/**
 * Size limits of the sync protocol's messages (docs/protocol.md): whole payloads, checked before
 * parsing, and fields. Kept apart from the codec so the object schemas (src/core/objects/wire.ts)
 * state the same bounds the decoders enforce.
 */

export const MAX_TARGET_BYTES = 1024 * 1024;
export const MAX_STATUS_BYTES = 256 * 1024;
export const MAX_PRESENCE_BYTES = 1024;
export const MAX_RPC_BYTES = 256 * 1024;

/** Per-field limits; exported so senders can truncate (e.g. container messages) before sending. */
export const WIRE_LIMITS = Object.freeze({
  // array lengths
  pods: 1000, containersPerPod: 32, env: 1000, argv: 1000, labels: 1000, rpcLines: 10_000,
  // string lengths (UTF-16 code units)
  name: 253, shortString: 256, image: 1024, labelKey: 317, labelValue: 1024, envName: 1024,
  longString: 64 * 1024, message: 4096, timestamp: 64, rpcId: 128, runId: 64,
  // seconds
  graceSeconds: 3600,
});

/**
 * Stream sessions (exec, portforward over MQTT): bytes per message, the window of bytes one side
 * may send before the other acknowledges them, the command's size and the terminal's.
 */
export const STREAM_LIMITS = Object.freeze({
  chunkBytes: 64 * 1024,
  windowBytes: 512 * 1024,
  args: 1000,
  argBytes: 16 * 1024,
  terminalCells: 10_000,
});

/** Kubernetes' limit for one ConfigMap or Secret: keys and values together. */
export const MAX_CONFIG_OBJECT_BYTES = 1024 * 1024;
/** Config bundles (wire-config.ts): objects per bundle, keys per object. */
export const MAX_CONFIG_OBJECTS = 512;
export const MAX_CONFIG_KEYS = 4096;
