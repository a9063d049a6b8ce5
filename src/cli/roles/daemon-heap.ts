/**
 * V8 tuned for a small resident set in the long-running roles (server, agent). Left alone, V8
 * grows its heap lazily while there is no memory pressure: the server of a 3,000-node fleet
 * holds ~32 MiB of live objects but kept ~250 MiB resident. `--optimize-for-size` makes the
 * heap grow slowly and shrink after collections (≈130 MiB for the same fleet; docs/performance.md).
 * It cannot go in NODE_OPTIONS (Node refuses it there) and the heap-sizing code reads it at
 * every collection, so it is set here, first thing in the role. `--no-v8-tuning`
 * ($GROVE_V8_TUNING=off) leaves V8 alone (for comparing).
 */
import { setFlagsFromString } from 'node:v8';

export function tuneDaemonHeap(enabled: boolean): void {
  if (enabled) setFlagsFromString('--optimize-for-size');
}
