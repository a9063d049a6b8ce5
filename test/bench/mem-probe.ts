/**
 * Diagnostics for benches: loaded into a measured daemon with `--import` (GROVE_TEST_NODE_ARGS),
 * it writes the process's own memory figures (V8 heap, external, array buffers) to
 * `$GROVE_MEM_PROBE_DIR/<pid>.json` every second, so that a bench can tell the V8 heap from
 * native memory (TLS, LevelDB, malloc) in the RSS it reads from /proc. Nothing else: no effect
 * on the daemon beyond one timer (unref'd) and one small file write per second.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';

const dir = process.env.GROVE_MEM_PROBE_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const write = (): void => {
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    // Written aside and renamed over: a bench reading the file never sees it truncated and
    // half-written (JSON.parse of an empty read throws "Unexpected end of JSON input").
    writeFileSync(`${file}.tmp`, JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, mallocedMemory: h.malloced_memory, peakMallocedMemory: h.peak_malloced_memory }));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 1000).unref();
}
