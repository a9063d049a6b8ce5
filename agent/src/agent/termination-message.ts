/**
 * A container's termination message, as the kubelet reads it: after the container ends, the
 * file at its terminationMessagePath (default /dev/termination-log; the agent binds a file of
 * the pod's directory there at start), at most MAX_MESSAGE_BYTES of it. With the policy
 * FallbackToLogsOnError, an empty file after a failed exit gives the log's last lines instead
 * (at most FALLBACK_LINES lines and FALLBACK_BYTES bytes). The message becomes the container
 * status's terminated message (state, or lastState while a restart backs off).
 */
import { open } from 'node:fs/promises';
import type { Container } from '../../../src/core/objects/pod-container.js';

/** Where a container writes why it ended when it names no terminationMessagePath (the kubelet's default). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** The kubelet's bound on the file (and on the whole message). */
export const MAX_MESSAGE_BYTES = 4096;
/** The kubelet's fallback: the last 80 lines of the log, at most 2 KiB. */
export const FALLBACK_LINES = 80;
export const FALLBACK_BYTES = 2048;

/** Recorded on the container at start when it asks for FallbackToLogsOnError (the default, File, carries no label). */
export const MESSAGE_POLICY_LABEL = 'grove.termination-message-policy';

export type MessagePolicy = 'File' | 'FallbackToLogsOnError';

export function messagePolicyLabels(c: Pick<Container, 'terminationMessagePolicy'>): Record<string, string> {
  return c.terminationMessagePolicy === 'FallbackToLogsOnError' ? { [MESSAGE_POLICY_LABEL]: 'FallbackToLogsOnError' } : {};
}

export const messagePolicyOf = (labels: Record<string, string>): MessagePolicy => (labels[MESSAGE_POLICY_LABEL] === 'FallbackToLogsOnError' ? 'FallbackToLogsOnError' : 'File');

/** The last lines of a log within the fallback's bounds (whole lines from the end, the first one cut if it alone is too long). */
export function logTail(lines: readonly string[]): string {
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < FALLBACK_LINES; i--) {
    const line = lines[i]!;
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > FALLBACK_BYTES) {
      if (kept.length === 0) kept.unshift(Buffer.from(line, 'utf8').subarray(-(FALLBACK_BYTES - 1)).toString('utf8'));
      break;
    }
    kept.unshift(line);
    bytes += size;
  }
  return kept.join('\n');
}

/**
 * PURE: the message of an ended container from what its file held (already capped) and, for
 * the fallback, its log's lines; undefined when there is none.
 */
export function terminationMessage(input: { file: string; policy: MessagePolicy; exitCode: number | null; logLines?: readonly string[] }): string | undefined {
  if (input.file.length > 0) return input.file;
  if (input.policy !== 'FallbackToLogsOnError' || input.exitCode === 0 || !input.logLines?.length) return undefined;
  const tail = logTail(input.logLines);
  return tail.length > 0 ? tail : undefined;
}

/** The first MAX_MESSAGE_BYTES of the file ("" when it is missing or unreadable: a container that wrote none). */
export async function readMessageFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buf = Buffer.alloc(MAX_MESSAGE_BYTES);
    const { bytesRead } = await handle.read(buf, 0, MAX_MESSAGE_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}
