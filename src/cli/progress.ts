import type { PullProgress } from '../../agent/src/images/types.js';
import { formatBytes } from '../core/quantity.js';
import type { CliIO } from './io.js';

export interface ProgressReporter {
  onProgress: (event: PullProgress) => void;
  finish: () => void;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

/**
 * Pull progress: a single redrawn bar on a TTY, plain one-line events otherwise (logs and CI
 * output stay readable).
 */
export function pullProgressReporter(io: Pick<CliIO, 'stdout'>): ProgressReporter {
  const out = io.stdout;
  const tty = Boolean(out.isTTY);
  const received = new Map<string, number>();
  let total = 0;
  let layers = 0;
  let done = 0;
  let lastDraw = 0;
  let drawn = false;

  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const got = [...received.values()].reduce((a, b) => a + b, 0);
    const ratio = total > 0 ? Math.min(1, got / total) : 0;
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR_WIDTH - filled);
    out.write(`\r[${bar}] ${formatBytes(got)}/${formatBytes(total)}  ${done}/${layers} blobs\x1b[K`);
    drawn = true;
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'resolved':
          total = event.totalBytes;
          layers = event.layers;
          if (!tty) out.write(`Resolved ${event.reference} to ${event.digest} (${event.layers} layers, ${formatBytes(event.totalBytes)})\n`);
          break;
        case 'blob':
          received.set(event.digest, event.receivedBytes);
          if (tty) draw();
          else if (event.resumedFrom) out.write(`Resuming ${event.digest.slice(7, 19)} from ${formatBytes(event.resumedFrom)}\n`);
          break;
        case 'blob-done':
          done++;
          if (tty) draw(true);
          else out.write(`${event.digest.slice(7, 19)}: ${event.cached ? 'already exists' : 'pull complete'}\n`);
          break;
        case 'done':
          break;
      }
    },
    finish() {
      if (tty && drawn) out.write('\n');
      drawn = false;
    },
  };
}
