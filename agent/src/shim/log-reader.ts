/**
 * Reading a container's log as grove-shim writes it: CRI-format lines in container.log and
 * its rotated predecessors container.log.1 (newer) … container.log.N (oldest).
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ShimFiles } from './protocol.js';

export interface LogLine {
  /** RFC 3339 time with nanoseconds, when the shim read the data. */
  time: string;
  stream: 'stdout' | 'stderr';
  /** A piece of a line longer than the shim's buffer; the next records continue it. */
  partial: boolean;
  text: string;
}

export interface FollowOptions {
  signal: AbortSignal;
  /** Start at the current end instead of replaying what is already there. */
  fromEnd?: boolean;
  /** Also stop once the container has exited (exit file present) and everything is read. */
  untilExit?: boolean;
  /** Replay only the last N existing lines before following (ignored with fromEnd). */
  tail?: number;
  /** Fallback poll interval when fs.watch misses events (network filesystems, overflow). */
  pollMs?: number;
}

const LINE_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) (stdout|stderr) ([^ ]+)(?: (.*))?$/s;
const READ_CHUNK = 64 * 1024;
const ROTATED_RE = new RegExp(`^${ShimFiles.log.replace('.', '\\.')}\\.(\\d+)$`);

/** Parses one CRI log line (without its newline); undefined if it is not one. */
export function parseLogLine(line: string): LogLine | undefined {
  const m = LINE_RE.exec(line);
  if (!m) return undefined;
  // CRI tags are ':'-separated; the first says whether the line is complete ("F") or not ("P").
  const tag = (m[3] as string).split(':')[0];
  if (tag !== 'F' && tag !== 'P') return undefined;
  return { time: m[1] as string, stream: m[2] as 'stdout' | 'stderr', partial: tag === 'P', text: m[4] ?? '' };
}

/** Splits a buffer into parsed lines; returns the unterminated tail for the next read. */
function splitLines(buf: Buffer, out: LogLine[]): Buffer {
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
    const parsed = parseLogLine(buf.toString('utf8', start, nl));
    if (parsed) out.push(parsed);
    start = nl + 1;
  }
  return buf.subarray(start);
}

/** The log files, oldest first: container.log.N … container.log.1, container.log. */
export async function listLogFiles(stateDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated = names
    .map((n) => ({ n, k: Number(ROTATED_RE.exec(n)?.[1] ?? NaN) }))
    .filter((f) => Number.isInteger(f.k) && f.k > 0)
    .sort((a, b) => b.k - a.k)
    .map((f) => join(stateDir, f.n));
  if (names.includes(ShimFiles.log)) rotated.push(join(stateDir, ShimFiles.log));
  return rotated;
}

async function readLines(file: string): Promise<LogLine[]> {
  const out: LogLine[] = [];
  try {
    // The shim writes whole records; an unterminated tail is one still being written.
    splitLines(await readFile(file), out);
  } catch (err) {
    // Rotation may remove the oldest file between listing and reading it.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return out;
}

/**
 * All log lines, oldest first, or the last `tail` of them. Reading races with rotation: a
 * rotation in the middle can repeat or skip one file's worth of lines.
 */
export async function readLogLines(stateDir: string, opts: { tail?: number } = {}): Promise<LogLine[]> {
  const files = await listLogFiles(stateDir);
  const tail = opts.tail;
  if (tail === undefined) return (await Promise.all(files.map(readLines))).flat();
  if (!Number.isSafeInteger(tail) || tail < 0) throw new RangeError(`tail must be a non-negative integer, got ${tail}`);
  if (tail === 0) return [];
  // Newest file first, stopping as soon as we have enough: usually only container.log.
  const chunks: LogLine[][] = [];
  let count = 0;
  for (let i = files.length - 1; i >= 0 && count < tail; i--) {
    const lines = await readLines(files[i] as string);
    chunks.unshift(lines);
    count += lines.length;
  }
  const all = chunks.flat();
  return all.slice(Math.max(0, all.length - tail));
}

/** Wakes a waiting follower on directory changes, a fallback timer, or abort. */
class Waker {
  private fired = false;
  private wakeUp: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.fire();

  constructor(
    dir: string,
    private readonly signal: AbortSignal,
    pollMs: number,
  ) {
    try {
      // Watching the directory sees writes to container.log and the renames of a rotation.
      this.watcher = watch(dir, { persistent: false }, () => this.fire());
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = undefined; // the timer alone still works
    }
    this.timer = setInterval(() => this.fire(), pollMs);
    signal.addEventListener('abort', this.onAbort);
  }

  private fire(): void {
    this.fired = true;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Resolves at the next event, or at once if one happened since the last wait. */
  wait(): Promise<void> {
    if (this.fired || this.signal.aborted) {
      this.fired = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeUp = () => {
        this.fired = false;
        resolve();
      };
    });
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Yields log lines as the shim writes them until `signal` fires (what was written up to then
 * is still yielded) or, with untilExit, the container has exited and everything is read. Follows rotation by keeping the old file open:
 * a renamed (even deleted) file stays readable through its handle, so nothing written before
 * the rotation is lost as long as we are at most one rotation behind.
 */
export async function* followLog(stateDir: string, opts: FollowOptions): AsyncGenerator<LogLine> {
  const { signal } = opts;
  const current = join(stateDir, ShimFiles.log);
  const waker = new Waker(stateDir, signal, opts.pollMs ?? 250);
  let handle: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let rest: Buffer = Buffer.alloc(0);
  const chunk = Buffer.alloc(READ_CHUNK);

  // Reads everything currently in the open file.
  const drain = async (): Promise<LogLine[]> => {
    const out: LogLine[] = [];
    if (!handle) return out;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, pos);
      if (bytesRead === 0) return out;
      pos += bytesRead;
      rest = splitLines(Buffer.concat([rest, chunk.subarray(0, bytesRead)]), out);
    }
  };
  // Opens container.log if it is not the file we have open; false if it does not exist yet.
  const reopen = async (): Promise<boolean> => {
    let h: FileHandle;
    try {
      h = await open(current, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const st = await h.stat();
    if (st.ino === ino) {
      await h.close();
      return false;
    }
    await handle?.close();
    handle = h;
    ino = st.ino;
    pos = 0;
    rest = Buffer.alloc(0); // a record cut off by rotation cannot be completed
    return true;
  };

  const exitFile = join(stateDir, ShimFiles.exit);
  const shouldStop = async (): Promise<boolean> =>
    signal.aborted || (opts.untilExit === true && (await exists(exitFile)));

  try {
    // Open the current file first, then replay older files that are not it.
    while (!(await reopen())) {
      if (await shouldStop()) return;
      await waker.wait();
    }
    const backlog: LogLine[] = [];
    if (opts.fromEnd) {
      pos = (await (handle as FileHandle).stat()).size;
    } else {
      for (const file of await listLogFiles(stateDir)) {
        // Skip the file we hold (container.log, or what a rotation just renamed it to).
        const st = await stat(file).catch(() => undefined);
        if (!st || st.ino === ino) continue;
        backlog.push(...(await readLines(file)));
        if (opts.tail !== undefined) backlog.splice(0, Math.max(0, backlog.length - opts.tail));
      }
      backlog.push(...(await drain()));
      if (opts.tail !== undefined) backlog.splice(0, Math.max(0, backlog.length - opts.tail));
    }
    for (const line of backlog) yield line;

    for (let lastPass = false; !lastPass; ) {
      // Decided before reading: the shim writes the exit file after its last log write, and
      // after an abort we still show what was written up to now, once.
      lastPass = await shouldStop();
      for (const line of await drain()) yield line;
      // Rotated? Finish the old file (it may have grown since our read), then switch.
      const st = await stat(current).catch(() => undefined);
      if (st && st.ino !== ino) {
        for (const line of await drain()) yield line;
        if (await reopen()) for (const line of await drain()) yield line;
        if (!lastPass) continue;
      }
      if (!lastPass) await waker.wait();
    }
  } finally {
    waker.close();
    await handle?.close();
  }
}
