/**
 * Kubernetes' remote-command channel protocol over WebSocket (v4.channel.k8s.io and
 * v5.channel.k8s.io, what kubectl exec/attach speak since v1.30): every binary message starts
 * with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (the end: a Status), 4 resize
 * (JSON {"Width","Height"}) — and v5 adds 255, "close": the client has no more data for the
 * channel in the next byte (its stdin ended). Pure.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Served, in order of preference. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export type ClientMessage =
  | { type: 'stdin'; data: Buffer }
  | { type: 'stdin-end' }
  | { type: 'resize'; width: number; height: number }
  | { type: 'ignored' };

/** A message to the client on `channel`. */
export function frame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(body.byteLength + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

const MAX_RESIZE_BYTES = 256;

/** What a client's message says; throws InvalidArgument for one that breaks the protocol. */
export function parseClientMessage(message: Buffer, protocol: string): ClientMessage {
  if (message.length === 0) return { type: 'ignored' };
  const channel = message[0]!;
  const body = message.subarray(1);
  switch (channel) {
    case Channel.stdin:
      return body.length > 0 ? { type: 'stdin', data: body } : { type: 'ignored' };
    case Channel.resize: {
      if (body.length > MAX_RESIZE_BYTES) throw new GroveError(ErrorCode.InvalidArgument, `resize message of ${body.length} bytes (at most ${MAX_RESIZE_BYTES})`);
      let size: unknown;
      try {
        size = JSON.parse(body.toString('utf8'));
      } catch {
        throw new GroveError(ErrorCode.InvalidArgument, 'resize message is not JSON');
      }
      const { Width, Height } = (size ?? {}) as { Width?: unknown; Height?: unknown };
      const cells = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10_000;
      if (!cells(Width) || !cells(Height)) throw new GroveError(ErrorCode.InvalidArgument, 'resize message must be {"Width": 0-10000, "Height": 0-10000}');
      return { type: 'resize', width: Width, height: Height };
    }
    case Channel.close:
      return protocol.startsWith('v5.') && body[0] === Channel.stdin ? { type: 'stdin-end' } : { type: 'ignored' };
    default:
      return { type: 'ignored' };
  }
}

interface ErrorStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
}

/**
 * The error channel's last word: Success for exit code 0, else NonZeroExitCode with the code
 * as the ExitCode cause (kubectl exits with it), as the kubelet words it.
 */
export function exitStatus(exitCode: number, command: readonly string[]): ErrorStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** A failure that is not the command's (the node, the container): kubectl prints the message. */
export function failureStatus(message: string): ErrorStatus {
  return { metadata: {}, status: 'Failure', message };
}
