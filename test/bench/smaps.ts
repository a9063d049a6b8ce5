/**
 * Where a process's resident memory is, from /proc/PID/smaps: file-backed pages (the node
 * binary, shared libraries), the brk heap (glibc's main malloc arena), glibc's other malloc
 * arenas (64 MiB-aligned reservations: a read-write part followed by an inaccessible rest, one
 * per arena), and the remaining anonymous mappings (V8's heap pages and large mallocs, mostly).
 */
import { readFile } from 'node:fs/promises';

export interface SmapsBreakdown {
  fileKiB: number;
  brkKiB: number;
  arenaKiB: number;
  arenas: number;
  otherAnonKiB: number;
}

const ARENA_BYTES = 64 * 1024 * 1024;

export function smapsBreakdown(text: string): SmapsBreakdown {
  const out: SmapsBreakdown = { fileKiB: 0, brkKiB: 0, arenaKiB: 0, arenas: 0, otherAnonKiB: 0 };
  const maps: { start: bigint; end: bigint; perms: string; path: string; rss: number }[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      maps.push({ start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), perms: head[3]!, path: head[5]!.trim(), rss: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length) maps[maps.length - 1]!.rss = Number(rss[1]);
  }
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const next = maps[i + 1];
    if (m.path === '[heap]') out.brkKiB += m.rss;
    else if (m.path.startsWith('/')) out.fileKiB += m.rss;
    else if (m.path === '' && m.perms.startsWith('rw') && m.start % BigInt(ARENA_BYTES) === 0n && next && next.start === m.end && next.perms === '---p' && next.end - m.start === BigInt(ARENA_BYTES)) {
      out.arenaKiB += m.rss;
      out.arenas++;
    } else if (m.path === '' || m.path.startsWith('[anon')) out.otherAnonKiB += m.rss;
  }
  return out;
}

export async function readSmaps(pid: number): Promise<SmapsBreakdown> {
  return smapsBreakdown(await readFile(`/proc/${pid}/smaps`, 'utf8'));
}
